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
import { bufferCount, concatMap, defer, EMPTY, Observable, takeWhile, type Subscription } from 'rxjs';
import type { RolloutRecord } from '../data/schemas.js';
import { generateStreaming, type SampleConfig } from '../model/sample.js';
import type { Tokenizer } from '../model/tokenizer.js';
import type { RewardResult, RewardSample } from '../reward/types.js';
import { groupAdvantages, overlongPenalty } from '../train/grpo.js';
import { learningRate } from '../train/optim.js';
import type { PolicyLearner, PolicyRow, UpdateStats } from '../train/policy.js';
import { groupsOf, policyRowsFromLog } from '../train/rollout-log.js';
import { deriveSeed, Rng } from '../util/rng.js';
import { Semaphore } from '../util/semaphore.js';
import { checkRLVRConfig, type RLVRConfig } from './rlvr-config.js';
import { verify } from './verify.js';

/** One target-domain example: the prompt the policy sees and the row its reward checks against. */
export interface RLExample {
  readonly id: string;
  readonly prompt: string;
  /** Ground truth and other columns for the reward (e.g. names + solution, answer, test). */
  readonly row: Readonly<Record<string, unknown>>;
}

/** Where prompt number `cursor` of the run comes from: a seeded permutation per epoch. */
export function promptAt(cursor: number, count: number, seed: number, cache = new Map<number, number[]>()): number {
  const epoch = Math.floor(cursor / count);
  let order = cache.get(epoch);
  if (!order) {
    order = new Rng(deriveSeed(seed, epoch)).shuffle([...Array(count).keys()]);
    cache.clear();
    cache.set(epoch, order);
  }
  return order[cursor % count] as number;
}

/** Dynamic sampling gives up after this many batches' worth of dropped groups in a row (DAPO's max_num_gen_batches). */
const MAX_DROPS_PER_STEP = 8;

/** What the run saves to resume. */
export interface RLVRState {
  /** Updates done (= the policy version). */
  readonly step: number;
  /** Groups consumed from the prompt order. */
  readonly cursor: number;
}

/** Metrics of one update. */
export interface RLVRStep extends UpdateStats {
  readonly step: number;
  readonly totalSteps: number;
  /** Groups consumed from the prompt order after this step (save with `step` to resume). */
  readonly cursor: number;
  readonly lr: number;
  /** Mean reward of the batch's scored completions. */
  readonly rewardMean: number;
  readonly rewardStd: number;
  /** Share of the batch's completions with status ok. */
  readonly passRate: number;
  /** Completions with a null reward (timeout, crash, unscorable): excluded from their groups. */
  readonly unscored: number;
  readonly completionLength: number;
  /** Share of completions cut at maxNewTokens. */
  readonly truncated: number;
  /** Groups dropped since the last step (dynamic sampling or staleness). */
  readonly dropped: number;
  /** Share of the batch's completions with a non-zero advantage (0: every group all-equal, nothing to learn). */
  readonly signal: number;
  /** Mean lag, in policy versions, of the trained groups. */
  readonly staleness: number;
  /** Rollouts sampled per second of wall time, over the run so far. */
  readonly rolloutsPerSec: number;
  /** Share of wall time, over the run so far, the model (generation + updates) sat idle. */
  readonly modelIdle: number;
  /** Share of wall time, over the run so far, with no completion being scored. */
  readonly poolIdle: number;
  /** Scoring time over wall time × scoring slots (how busy the pool's workers were). */
  readonly poolUtil: number;
  /** True for a step trained from the log on resume. */
  readonly replayed: boolean;
}

/** What the run needs. */
export interface RLVRDeps {
  readonly learner: PolicyLearner;
  readonly tokenizer: Tokenizer;
  readonly examples: readonly RLExample[];
  readonly config: RLVRConfig;
  /** Scores one completion; normally `RewardPool.score` with the run's rewards. */
  readonly score: (sample: RewardSample, signal: AbortSignal) => Promise<RewardResult>;
  /** Scoring slots (the pool's workers), for utilisation; default `verifyConcurrency`. */
  readonly poolSize?: number;
  /** Time the pool's workers spent scoring so far (e.g. `() => pool.stats.busyMs`); default: time inside `score`, queueing included. */
  readonly poolWorkMs?: () => number;
  readonly runId: string;
  /** Where the run starts (a resumed checkpoint), default step 0, cursor 0. */
  readonly start?: RLVRState;
  /** Steps logged after `start` (resume): trained from the log, not sampled again. */
  readonly logged?: AsyncIterable<readonly RolloutRecord[]> | Iterable<readonly RolloutRecord[]>;
  /** Writes one step's rollouts (flushed before the update runs). */
  readonly writeRollouts: (rows: RolloutRecord[]) => Promise<void>;
  /** Saves a checkpoint of the state after an update (on the saveEvery cadence). */
  readonly checkpoint?: (state: RLVRState) => Promise<void>;
  /** Warnings (e.g. excluded rewards). */
  readonly warn?: (message: string) => void;
}

/** A sampled completion on its way through verification. */
interface Rollout extends RewardSample {
  readonly cursor: number;
  readonly example: RLExample;
  readonly groupIdx: number;
  readonly version: number;
  readonly promptIds: readonly number[];
  readonly tokens: number[];
  readonly logprobs: number[];
  readonly finishReason: 'stop' | 'length';
}

type Scored = Rollout & { readonly reward: RewardResult };

/**
 * Counting permits: how many groups generation may have ahead of training
 * (`available`), and how many more the run can still use (`remaining`), so the last
 * steps do not sample groups nobody will train on.
 */
class Credits {
  private waiter: (() => void) | null = null;
  constructor(
    private available: number,
    private remaining: number,
  ) {}
  /** Waits for at least one credit, then takes up to `max`; null once cancelled. */
  async take(max: number, signal: AbortSignal): Promise<number | null> {
    while (this.available === 0 || this.remaining === 0) {
      if (signal.aborted) return null;
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
    if (signal.aborted) return null;
    const n = Math.min(max, this.available, this.remaining);
    this.available -= n;
    this.remaining -= n;
    return n;
  }
  /** Groups trained or dropped: generation may run that much further ahead. */
  release(n: number): void {
    this.available += n;
    this.wake();
  }
  /** Groups dropped: the run needs that many more. */
  grant(n: number): void {
    this.remaining += n;
    this.wake();
  }
  wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }
}

/** Busy time of a resource: the union of intervals with at least one user. */
class BusyClock {
  private users = 0;
  private since = 0;
  busyMs = 0;
  workMs = 0;
  enter(): number {
    const now = performance.now();
    if (this.users++ === 0) this.since = now;
    return now;
  }
  leave(started: number): void {
    const now = performance.now();
    this.workMs += now - started;
    if (--this.users === 0) this.busyMs += now - this.since;
  }
  /** Busy time including an interval still open. */
  busyNow(): number {
    return this.busyMs + (this.users > 0 ? performance.now() - this.since : 0);
  }
}

function stats(xs: readonly number[]): { mean: number; std: number } {
  if (xs.length === 0) return { mean: Number.NaN, std: Number.NaN };
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return { mean, std: Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / xs.length) };
}

/** The reward a completion trains on: the verifier's, plus the soft overlong penalty when configured. */
function shapedReward(c: RLVRConfig, r: RewardResult, length: number): number | null {
  if (r.score === null || !Number.isFinite(r.score)) return null;
  return c.overlong === 'soft' ? r.score + overlongPenalty(length, c.maxNewTokens, c.overlongCache) : r.score;
}

/**
 * Runs RLVR and emits one `RLVRStep` per update. Unsubscribing stops it: generation
 * stops at its next token, in-flight scoring is cancelled, and an update already
 * running finishes first (its rollouts are logged before it starts).
 */
export function rlvr(deps: RLVRDeps): Observable<RLVRStep> {
  return new Observable<RLVRStep>((subscriber) => {
    const c = checkRLVRConfig(deps.config);
    const { learner, tokenizer, examples } = deps;
    if (examples.length === 0) throw new Error('rlvr: no training examples');
    const model = learner.model;
    const abort = new AbortController();
    const t0 = performance.now();
    const modelClock = new BusyClock();
    const poolClock = new BusyClock();
    const poolWorkAtStart = deps.poolWorkMs?.() ?? 0;
    const lock = new Semaphore(1);
    const promptIds = new Map<string, number[]>();
    const encodePrompt = (ex: RLExample): number[] => {
      let ids = promptIds.get(ex.id);
      if (!ids) {
        ids = tokenizer.encode(ex.prompt);
        if (ids.length + c.maxNewTokens > model.config.maxPositions) {
          throw new Error(`rlvr: example '${ex.id}' has ${ids.length} prompt tokens; with maxNewTokens ${c.maxNewTokens} that exceeds the model's ${model.config.maxPositions} positions`);
        }
        promptIds.set(ex.id, ids);
      }
      return ids;
    };
    examples.forEach(encodePrompt); // fail before any work
    let version = deps.start?.step ?? 0;
    let cursor = deps.start?.cursor ?? 0;
    let rollouts = 0;
    let droppedSinceStep = 0;
    const orderCache = new Map<number, number[]>();

    const stepMetrics = (s: { batch: readonly { reward: number | null; status: string; length: number; finish: string; version: number; advantage: number | null }[]; update: UpdateStats; lr: number; replayed: boolean }): RLVRStep => {
      const scored = s.batch.map((r) => r.reward).filter((r): r is number => r !== null);
      const { mean, std } = stats(scored);
      const wall = performance.now() - t0;
      return {
        ...s.update,
        step: version,
        totalSteps: c.steps,
        cursor,
        lr: s.lr,
        rewardMean: mean,
        rewardStd: std,
        passRate: s.batch.filter((r) => r.status === 'ok').length / Math.max(1, s.batch.length),
        unscored: s.batch.length - scored.length,
        completionLength: stats(s.batch.map((r) => r.length)).mean,
        truncated: s.batch.filter((r) => r.finish === 'length').length / Math.max(1, s.batch.length),
        dropped: droppedSinceStep,
        signal: s.batch.filter((r) => r.advantage !== null && r.advantage !== 0).length / Math.max(1, s.batch.length),
        staleness: stats(s.batch.map((r) => version - 1 - r.version)).mean,
        rolloutsPerSec: rollouts / (wall / 1000),
        modelIdle: 1 - modelClock.busyNow() / wall,
        poolIdle: 1 - poolClock.busyNow() / wall,
        poolUtil: (deps.poolWorkMs ? deps.poolWorkMs() - poolWorkAtStart : poolClock.workMs) / (wall * (deps.poolSize ?? c.verifyConcurrency)),
        replayed: s.replayed,
      };
    };

    const train = async (rows: PolicyRow[]): Promise<{ update: UpdateStats; lr: number }> => {
      const lr = learningRate(version, c.lr, c.warmupSteps, c.steps, 'constant');
      await lock.acquire();
      const started = modelClock.enter();
      try {
        const update = learner.update(rows, lr);
        version++;
        return { update, lr };
      } finally {
        modelClock.leave(started);
        lock.release();
      }
    };

    const afterStep = async (): Promise<void> => {
      if (deps.checkpoint && c.saveEvery > 0 && version % c.saveEvery === 0 && version < c.steps) await deps.checkpoint({ step: version, cursor });
    };

    // 1. Steps already logged after the checkpoint: train from the log.
    const replayLogged = async (): Promise<void> => {
      if (!deps.logged) return;
      for await (const records of deps.logged) {
        if (abort.signal.aborted || version >= c.steps) return;
        const rows = policyRowsFromLog(records, tokenizer, c.overlong);
        cursor += groupsOf(records).length;
        const { update, lr } = await train(rows);
        droppedSinceStep = 0;
        const batch = records.filter((r) => r.advantage !== null).map((r) => ({ reward: r.reward, status: r.status, length: r.token_ids.length, finish: r.finish_reason, version: r.policy_version, advantage: r.advantage }));
        const out = stepMetrics({ batch, update, lr, replayed: true });
        await afterStep();
        subscriber.next(out);
      }
    };

    // 2. Live: sample, verify, group, update.
    const credits = new Credits(c.promptsPerStep * (1 + c.maxStaleness), 0);
    const requests$ = new Observable<{ cursor: number; n: number }>((sub) => {
      let next = cursor;
      void (async () => {
        for (;;) {
          const n = await credits.take(c.chunkPrompts, abort.signal);
          if (n === null) return;
          sub.next({ cursor: next, n });
          next += n;
        }
      })();
      return () => credits.wake();
    });

    const generateChunk = (req: { cursor: number; n: number }): Observable<Rollout> =>
      new Observable<Rollout>((sub) => {
        const ac = new AbortController();
        (async () => {
          await lock.acquire();
          if (ac.signal.aborted) {
            lock.release();
            return;
          }
          const started = modelClock.enter();
          const v = version;
            const chunk = Array.from({ length: req.n }, (_, i) => examples[promptAt(req.cursor + i, examples.length, c.seed, orderCache)] as RLExample);
            const prompts = chunk.flatMap((ex) => Array.from({ length: c.groupSize }, () => encodePrompt(ex)));
            const seeds = chunk.flatMap((_, i) => Array.from({ length: c.groupSize }, (_, g) => deriveSeed(c.seed, req.cursor + i, g, 0x5a)));
            const sampling: Partial<SampleConfig> = { maxNewTokens: c.maxNewTokens, temperature: c.temperature, topP: c.topP, topK: c.topK, stop: [...c.stop], seeds };
            let gens;
            try {
              gens = await generateStreaming(model, tokenizer, prompts, sampling, undefined, ac.signal);
            } finally {
              modelClock.leave(started);
              lock.release();
            }
            rollouts += gens.length;
            gens.forEach((g, j) => {
              const ex = chunk[Math.floor(j / c.groupSize)] as RLExample;
              sub.next({
                id: `${ex.id}#${j % c.groupSize}`,
                prompt: ex.prompt,
                completion: g.text,
                row: ex.row,
                cursor: req.cursor + Math.floor(j / c.groupSize),
                example: ex,
                groupIdx: j % c.groupSize,
                version: v,
                promptIds: prompts[j] as number[],
                tokens: g.tokens,
                // Rounded as the log stores them, so training from the log is bit-identical.
                logprobs: g.logprobs.map(Math.fround),
                finishReason: g.finishReason,
              });
            });
            sub.complete();
        })().catch((e: unknown) => {
            if (!ac.signal.aborted) sub.error(e);
          });
        return () => ac.abort();
      });

    const timedScore = async (sample: RewardSample, signal: AbortSignal): Promise<RewardResult> => {
      const started = poolClock.enter();
      try {
        return await deps.score(sample, signal);
      } finally {
        poolClock.leave(started);
      }
    };

    const toRecord = (r: Scored, step: number, advantage: number | null, reward: number | null): RolloutRecord => ({
      run_id: deps.runId,
      step,
      policy_version: r.version,
      prompt_id: r.example.id,
      group_idx: r.groupIdx,
      prompt: r.prompt,
      example: JSON.stringify(r.row),
      completion: r.completion,
      token_ids: r.tokens,
      logprobs: r.logprobs,
      reward,
      reward_parts: JSON.stringify(r.reward.parts),
      advantage,
      status: r.reward.status,
      finish_reason: r.finishReason,
    });

    interface Group {
      readonly members: readonly Scored[];
      readonly rewards: (number | null)[];
      readonly advantages: (number | null)[];
    }
    let accepted: Group[] = [];
    let pendingLog: Group[] = []; // dropped groups, logged with the next batch
    let excludedWarned = 0;

    const onGroup = (members: Scored[]): Observable<RLVRStep> => {
      const rewards = members.map((m) => shapedReward(c, m.reward, m.tokens.length));
      const adv = groupAdvantages(rewards, c.advantage);
      if (adv.excluded > 0) {
        excludedWarned += adv.excluded;
        const why = [...new Set(members.filter((_, i) => adv.advantages[i] === null).map((m) => m.reward.status))].join(', ');
        deps.warn?.(`prompt '${members[0]?.example.id}': ${adv.excluded} of ${members.length} completions have no reward (${why}); left out of the group (${excludedWarned} so far)`);
      }
      // Float32, as logged: a resumed or replayed step trains on exactly these values.
      const group: Group = { members, rewards, advantages: adv.advantages.map((a) => (a === null ? null : Math.fround(a))) };
      if (c.dynamicSampling && adv.degenerate) {
        pendingLog.push({ ...group, advantages: group.advantages.map(() => null) });
        droppedSinceStep++;
        if (droppedSinceStep > MAX_DROPS_PER_STEP * c.promptsPerStep) {
          throw new Error(
            `rlvr: dynamic sampling dropped ${droppedSinceStep} groups in a row without filling a batch of ${c.promptsPerStep}: every group's completions get the same reward (e.g. ${String(rewards[0])}); there is nothing to learn. Check the reward, the prompt template and maxNewTokens`,
          );
        }
        credits.release(1);
        credits.grant(1);
        return EMPTY;
      }
      accepted.push(group);
      // Too stale to train the next version: drop, refill.
      const fresh = accepted.filter((g) => version - (g.members[0]?.version ?? version) <= c.maxStaleness);
      if (fresh.length < accepted.length) {
        for (const g of accepted) if (!fresh.includes(g)) pendingLog.push({ ...g, advantages: g.advantages.map(() => null) });
        droppedSinceStep += accepted.length - fresh.length;
        credits.release(accepted.length - fresh.length);
        credits.grant(accepted.length - fresh.length);
        accepted = fresh;
      }
      if (accepted.length < c.promptsPerStep) return EMPTY;
      const batch = accepted.slice(0, c.promptsPerStep);
      accepted = accepted.slice(c.promptsPerStep);
      const dropped = pendingLog;
      pendingLog = [];
      return defer(async () => {
        const step = version + 1;
        const log = [...dropped, ...batch].flatMap((g) => g.members.map((m, i) => toRecord(m, step, g.advantages[i] ?? null, g.rewards[i] ?? null)));
        await deps.writeRollouts(log);
        cursor += dropped.length + batch.length;
        const rows: PolicyRow[] = batch.flatMap((g) =>
          g.members.flatMap((m, i) => {
            const a = g.advantages[i];
            if (a === null || a === undefined || m.tokens.length === 0) return [];
            return [{ promptIds: m.promptIds, completionIds: m.tokens, oldLogprobs: m.logprobs, advantage: a, trainable: !(c.overlong === 'mask' && m.finishReason === 'length') }];
          }),
        );
        const { update, lr } = await train(rows);
        credits.release(c.promptsPerStep);
        const scoredBatch = batch.flatMap((g) => g.members.map((m, i) => ({ reward: g.rewards[i] ?? null, status: m.reward.status, length: m.tokens.length, finish: m.finishReason, version: m.version, advantage: g.advantages[i] ?? null })));
        const out = stepMetrics({ batch: scoredBatch, update, lr, replayed: false });
        droppedSinceStep = 0;
        await afterStep();
        return out;
      });
    };

    let live: Subscription | null = null;
    replayLogged().then(
      () => {
        if (abort.signal.aborted) return;
        if (version >= c.steps) {
          subscriber.complete();
          return;
        }
        credits.grant((c.steps - version) * c.promptsPerStep);
        live = requests$
          .pipe(
            concatMap((req) => generateChunk(req)),
            verify<Rollout>({ score: timedScore, concurrency: c.verifyConcurrency, ordered: true }),
            bufferCount(c.groupSize),
            concatMap((members) => onGroup(members)),
            takeWhile((s) => s.step < c.steps, true),
          )
          .subscribe({ next: (s) => subscriber.next(s), error: (e: unknown) => subscriber.error(e), complete: () => subscriber.complete() });
      },
      (e: unknown) => subscriber.error(e),
    );
    return () => {
      abort.abort();
      credits.wake();
      live?.unsubscribe();
    };
  });
}
