/**
 * RLVR as a stream: prompts → rollout(policy) → verify(rewards) → group → advantages →
 * update → a new policy version.
 *
 *   requests$   a prompt cursor that emits chunks of prompts while it holds credits;
 *               credits bound how far generation may run ahead of training:
 *               promptsPerStep · (1 + maxStaleness) groups in flight at most
 *   rollout     samples G completions per prompt (batched, KV cache), recording the
 *               policy version and the sampling-time log-probs
 *   verify      scores completions with bounded concurrency (normally in the sandbox
 *               pool), while the next chunk is being generated
 *   group       regroups the G completions of a prompt; advantages per group;
 *               dynamic sampling drops groups whose rewards are all equal and frees a
 *               credit so another prompt refills the batch
 *   update      once promptsPerStep groups are in: log them (one flushed Arrow batch),
 *               apply μ optimiser steps, bump the policy version, give the credits back
 *
 * Generation and updates share the model, so a lock keeps a chunk's generation and an
 * update from interleaving: every chunk is sampled from exactly one policy version.
 * With maxStaleness 0 (the default) training is strictly on-policy, and chunking
 * (`chunkPrompts` < `promptsPerStep`) still lets verification of one chunk overlap the
 * generation of the next. With maxStaleness s ≥ 1, batch k+1 is generated while batch k
 * is verified and trained; the ratio is always taken against the sampling-time
 * log-probs, and groups older than s versions are dropped.
 *
 * Resume: the caller passes the steps logged after the checkpoint; they are trained
 * from the log (as replay does) rather than sampled again, so no logged rollout is lost
 * or duplicated, and the prompt cursor skips the groups they used.
 */
import { bufferCount, concatMap, defer, EMPTY, Observable, takeWhile, type Subscriber, type Subscription } from 'rxjs';
import type { RolloutRecord } from '../data/schemas.js';
import { generateStreaming } from '../model/sample.js';
import type { RewardResult, RewardSample } from '../reward/types.js';
import { batchSummary, scoreGroup, trainedRecords } from '../train/grpo-batch.js';
import { learningRate } from '../train/optim.js';
import type { UpdateStats } from '../train/policy.js';
import { groupsOf, policyRowsFromLog } from '../train/rollout-log.js';
import { Semaphore } from '../util/semaphore.js';
import { GroupBatcher, type Group } from './rlvr-batcher.js';
import { BusyClock, chunkRequests, Credits } from './rlvr-clocks.js';
import { checkRLVRConfig, type RLVRConfig } from './rlvr-config.js';
import { chunkPlan, chunkRollouts, rolloutRecord, type ChunkRequest, type RLExample, type Rollout, type Scored } from './rollout.js';
import { verify } from './verify.js';

export { promptAt, type RLExample } from './rollout.js';
export type { RLVRDeps, RLVRState, RLVRStep } from './rlvr-types.js';
import type { RLVRDeps, RLVRStep } from './rlvr-types.js';

/** One run of the stage: its state, and the steps of the stream as methods. */
class RLVRRun {
  private readonly c: RLVRConfig;
  private readonly abort = new AbortController();
  private readonly t0 = performance.now();
  private readonly modelClock = new BusyClock();
  private readonly poolClock = new BusyClock();
  private readonly poolWorkAtStart: number;
  /** Generation and updates share the model: a chunk is sampled from exactly one policy version. */
  private readonly lock = new Semaphore(1);
  /** Prompt token ids by prompt text, shared with the rows trained from the log. */
  private readonly promptIds: Map<string, number[]>;
  private readonly orderCache = new Map<number, number[]>();
  private readonly credits: Credits;
  private readonly batcher: GroupBatcher;
  private version: number;
  private cursor: number;
  private rollouts = 0;
  private excludedWarned = 0;
  private live: Subscription | null = null;

  constructor(
    private readonly deps: RLVRDeps,
    private readonly out: Subscriber<RLVRStep>,
  ) {
    this.c = checkRLVRConfig(deps.config);
    if (deps.examples.length === 0) throw new Error('rlvr: no training examples');
    this.promptIds = new Map(deps.promptIds);
    // Fail before any work: every prompt must leave room for maxNewTokens.
    const max = deps.learner.model.config.maxPositions;
    for (const ex of deps.examples) {
      const n = this.encode(ex).length;
      if (n + this.c.maxNewTokens > max) throw new Error(`rlvr: example '${ex.id}' has ${n} prompt tokens; with maxNewTokens ${this.c.maxNewTokens} that exceeds the model's ${max} positions`);
    }
    this.poolWorkAtStart = deps.poolWorkMs?.() ?? 0;
    this.version = deps.start?.step ?? 0;
    this.cursor = deps.start?.cursor ?? 0;
    this.credits = new Credits(this.c.promptsPerStep * (1 + this.c.maxStaleness), 0);
    this.batcher = new GroupBatcher(this.c, this.credits);
  }

  private encode(ex: RLExample): number[] {
    let ids = this.promptIds.get(ex.prompt);
    if (!ids) {
      ids = this.deps.tokenizer.encode(ex.prompt);
      this.promptIds.set(ex.prompt, ids);
    }
    return ids;
  }

  /** Replays the logged steps, then runs live until `steps`. */
  start(): () => void {
    this.replayLogged().then(
      () => {
        if (this.abort.signal.aborted) return;
        if (this.version >= this.c.steps) return this.out.complete();
        this.credits.grant((this.c.steps - this.version) * this.c.promptsPerStep);
        this.live = this.liveSteps().subscribe({ next: (s) => this.out.next(s), error: (e: unknown) => this.out.error(e), complete: () => this.out.complete() });
      },
      (e: unknown) => this.out.error(e),
    );
    return () => {
      this.abort.abort();
      this.credits.wake();
      this.live?.unsubscribe();
    };
  }

  /** Steps already logged after the checkpoint: trained from the log, not sampled again. */
  private async replayLogged(): Promise<void> {
    if (!this.deps.logged) return;
    for await (const records of this.deps.logged) {
      if (this.abort.signal.aborted || this.version >= this.c.steps) return;
      this.cursor += groupsOf(records).length;
      const out = await this.trainStep(records, trainedRecords(records), true);
      await this.checkpoint();
      this.out.next(out);
    }
  }

  /** The live stream: prompt chunks → rollouts → verified → groups → batches → updates. */
  private liveSteps(): Observable<RLVRStep> {
    return chunkRequests(this.credits, this.cursor, this.c.chunkPrompts, this.abort.signal).pipe(
      concatMap((req) => this.generateChunk(req)),
      verify<Rollout>({ score: (s, signal) => this.timedScore(s, signal), concurrency: this.c.verifyConcurrency, ordered: true }),
      bufferCount(this.c.groupSize),
      concatMap((members) => this.onGroup(members)),
      takeWhile((s) => s.step < this.c.steps, true),
    );
  }

  /** Samples G completions for each prompt of a chunk, from one policy version. */
  private generateChunk(req: ChunkRequest): Observable<Rollout> {
    return new Observable<Rollout>((sub) => {
      const ac = new AbortController();
      const { c, deps } = this;
      (async () => {
        await this.lock.acquire();
        if (ac.signal.aborted) return this.lock.release();
        const started = this.modelClock.enter();
        const version = this.version;
        const plan = chunkPlan(req, deps.examples, c.groupSize, c.seed, (ex) => this.encode(ex), this.orderCache);
        let gens;
        try {
          const sampling = { maxNewTokens: c.maxNewTokens, temperature: c.temperature, topP: c.topP, topK: c.topK, stop: [...c.stop], seeds: plan.seeds };
          gens = await generateStreaming(deps.learner.model, deps.tokenizer, plan.prompts, sampling, undefined, ac.signal);
        } finally {
          this.modelClock.leave(started);
          this.lock.release();
        }
        this.rollouts += gens.length;
        for (const r of chunkRollouts(req, plan, gens, c.groupSize, version)) sub.next(r);
        sub.complete();
      })().catch((e: unknown) => {
        if (!ac.signal.aborted) sub.error(e);
      });
      return () => ac.abort();
    });
  }

  private timedScore(sample: RewardSample, signal: AbortSignal): Promise<RewardResult> {
    return this.poolClock.time(() => this.deps.score(sample, signal));
  }

  /** A verified group: advantages, then the batcher; a full batch is logged and trained. */
  private onGroup(members: Scored[]): Observable<RLVRStep> {
    const scored = scoreGroup(members.map((m) => m.reward.score), members.map((m) => m.tokens.length), this.c);
    if (scored.excluded > 0) {
      this.excludedWarned += scored.excluded;
      const why = [...new Set(members.filter((_, i) => scored.advantages[i] === null).map((m) => m.reward.status))].join(', ');
      this.deps.warn?.(`prompt '${members[0]?.example.id}': ${scored.excluded} of ${members.length} completions have no reward (${why}); left out of the group (${this.excludedWarned} so far)`);
    }
    const full = this.batcher.add(members, scored, this.version);
    if (!full) return EMPTY;
    return defer(async () => {
      const step = this.version + 1;
      const asRecords = (groups: readonly Group[]): RolloutRecord[] =>
        groups.flatMap((g) => g.members.map((m, i) => rolloutRecord(this.deps.runId, m, step, g.advantages[i] ?? null, g.rewards[i] ?? null)));
      const batch = asRecords(full.batch);
      await this.deps.writeRollouts([...asRecords(full.dropped), ...batch]);
      this.cursor += full.dropped.length + full.batch.length;
      const out = await this.trainStep(batch, batch, false);
      this.credits.release(this.c.promptsPerStep);
      await this.checkpoint();
      return out;
    });
  }

  /** Trains one step on its logged records (live, resumed and replayed alike); metrics summarise `trained`, the trained groups' records. */
  private async trainStep(records: readonly RolloutRecord[], trained: readonly RolloutRecord[], replayed: boolean): Promise<RLVRStep> {
    const rows = policyRowsFromLog(records, this.deps.tokenizer, this.c.overlong, this.promptIds);
    const lr = learningRate(this.version, this.c.lr, this.c.warmupSteps, this.c.steps, 'constant');
    await this.lock.acquire();
    const started = this.modelClock.enter();
    let update: UpdateStats;
    try {
      update = this.deps.learner.update(rows, lr);
      this.version++;
    } finally {
      this.modelClock.leave(started);
      this.lock.release();
    }
    const out = this.metrics(trained, update, lr, replayed);
    this.batcher.droppedSinceStep = 0;
    return out;
  }

  /** Saves the run's state on the saveEvery cadence (the last step is the caller's to save). */
  private async checkpoint(): Promise<void> {
    const { saveEvery, steps } = this.c;
    if (this.deps.checkpoint && saveEvery > 0 && this.version % saveEvery === 0 && this.version < steps) await this.deps.checkpoint({ step: this.version, cursor: this.cursor });
  }

  private metrics(batch: readonly RolloutRecord[], update: UpdateStats, lr: number, replayed: boolean): RLVRStep {
    const wall = performance.now() - this.t0;
    const { deps, c } = this;
    return {
      ...update,
      ...batchSummary(batch, this.version),
      step: this.version,
      totalSteps: c.steps,
      cursor: this.cursor,
      lr,
      dropped: this.batcher.droppedSinceStep,
      rolloutsPerSec: this.rollouts / (wall / 1000),
      modelIdle: 1 - this.modelClock.busyNow() / wall,
      poolIdle: 1 - this.poolClock.busyNow() / wall,
      poolUtil: (deps.poolWorkMs ? deps.poolWorkMs() - this.poolWorkAtStart : this.poolClock.workMs) / (wall * (deps.poolSize ?? c.verifyConcurrency)),
      replayed,
    };
  }
}

/**
 * Runs RLVR and emits one `RLVRStep` per update. Unsubscribing stops it: generation
 * stops at its next token, in-flight scoring is cancelled, and an update already
 * running finishes first (its rollouts are logged before it starts).
 */
export function rlvr(deps: RLVRDeps): Observable<RLVRStep> {
  return new Observable<RLVRStep>((subscriber) => new RLVRRun(deps, subscriber).start());
}
