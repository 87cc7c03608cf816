import * as tf from '@tensorflow/tfjs';
import { lastValueFrom, take, toArray } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RolloutRecord } from '../../src/data/schemas.js';
import { loadCheckpoint, saveCheckpoint } from '../../src/model/checkpoint.js';
import type { Transformer } from '../../src/model/transformer.js';
import { DEFAULT_RLVR, type RLVRConfig } from '../../src/stages/rlvr-config.js';
import { promptAt, rlvr, type RLVRDeps, type RLVRState, type RLVRStep } from '../../src/stages/rlvr.js';
import { PolicyLearner } from '../../src/train/policy.js';
import { groupsOf } from '../../src/train/rollout-log.js';
import { tempDir } from '../helpers.js';
import { digitsTask, sevens, type DigitsTask } from './rlvr-fixture.js';

let task: DigitsTask;
let base: string;
beforeAll(async () => {
  task = await digitsTask(0);
  base = await tempDir();
  await saveCheckpoint(base, task.model, task.tokenizer);
}, 120_000);

const config = (over: Partial<RLVRConfig> = {}): RLVRConfig => ({
  ...DEFAULT_RLVR,
  groupSize: 8,
  promptsPerStep: 4,
  steps: 30,
  maxNewTokens: 8,
  temperature: 1,
  lr: 3e-3,
  overlong: 'none',
  chunkPrompts: 2,
  microBatch: 32,
  seed: 7,
  ...over,
});

interface Run {
  steps: RLVRStep[];
  logged: RolloutRecord[][];
  checkpoints: RLVRState[];
  model: Transformer;
  learner: PolicyLearner;
}

async function run(c: RLVRConfig, options: { from?: string; start?: RLVRState; logged?: RolloutRecord[][]; stopAfter?: number; checkpointDir?: string; score?: RLVRDeps['score'] } = {}): Promise<Run> {
  const loaded = await loadCheckpoint(options.from ?? base);
  const learner = new PolicyLearner(loaded.model, c, null, loaded.tokenizer.pad);
  if (loaded.optimizer) learner.optimizer.load(loaded.optimizer, (loaded.trainerState as { step: number }).step);
  const logged: RolloutRecord[][] = [];
  const checkpoints: RLVRState[] = [];
  const replay = options.logged;
  const steps$ = rlvr({
    learner,
    tokenizer: loaded.tokenizer,
    examples: task.examples,
    config: c,
    score: options.score ?? ((s) => Promise.resolve(sevens(s))),
    runId: 'test',
    ...(options.start ? { start: options.start } : {}),
    ...(replay ? { logged: replay } : {}),
    writeRollouts: (rows) => {
      logged.push(rows);
      return Promise.resolve();
    },
    checkpoint: async (state) => {
      checkpoints.push(state);
      if (options.checkpointDir) await saveCheckpoint(`${options.checkpointDir}/step-${state.step}`, learner.model, loaded.tokenizer, { optimizer: learner.optimizer.state(), trainerState: state });
    },
  });
  const steps = await lastValueFrom((options.stopAfter ? steps$.pipe(take(options.stopAfter)) : steps$).pipe(toArray()));
  return { steps, logged, checkpoints, model: loaded.model, learner };
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const dispose = (r: Run): void => {
  r.learner.dispose();
  r.model.dispose();
};

describe('rlvr stream on the digits task (wasm)', () => {
  it('raises the reward over a seeded run', async () => {
    const r = await run(config());
    const rewards = r.steps.map((s) => s.rewardMean);
    expect(r.steps).toHaveLength(30);
    const first = mean(rewards.slice(0, 5));
    const last = mean(rewards.slice(-5));
    // The base policy emits sevens about one digit in ten.
    expect(first).toBeGreaterThan(0.02);
    expect(first).toBeLessThan(0.25);
    expect(last).toBeGreaterThan(first + 0.15);
    expect(r.steps.every((s) => s.staleness === 0 && s.dropped === 0)).toBe(true);
    expect(r.steps.every((s) => s.signal >= 0 && s.signal <= 1) && r.steps.some((s) => s.signal > 0)).toBe(true);
    dispose(r);
  });

  it('logs every rollout of a step with its version, group, log-probs and advantage', async () => {
    const r = await run(config({ steps: 3 }));
    expect(r.logged).toHaveLength(3);
    r.logged.forEach((rows, k) => {
      expect(rows).toHaveLength(32);
      expect(rows.every((x) => x.step === k + 1 && x.policy_version === k && x.run_id === 'test')).toBe(true);
      expect(rows.map((x) => x.group_idx)).toEqual(Array.from({ length: 32 }, (_, i) => i % 8));
      for (let g = 0; g < 4; g++) {
        const group = rows.slice(g * 8, g * 8 + 8);
        expect(new Set(group.map((x) => x.prompt_id)).size).toBe(1);
        // Dr. GRPO: advantages are rewards minus the group mean.
        const m = mean(group.map((x) => x.reward as number));
        group.forEach((x) => expect(x.advantage).toBeCloseTo((x.reward as number) - m, 6));
        group.forEach((x) => expect(x.logprobs).toHaveLength(x.token_ids.length));
        group.forEach((x) => expect(JSON.parse(x.example)).toEqual({ target: '7' }));
      }
    });
    // The prompts follow the seeded order: 4 per step.
    const ids = r.logged.flat().filter((x) => x.group_idx === 0).map((x) => x.prompt_id);
    expect(ids).toEqual(Array.from({ length: 12 }, (_, i) => `q${promptAt(i, 8, 7)}`));
    dispose(r);
  });

  it('is reproducible: the same seed gives the same rollouts and updates', async () => {
    const a = await run(config({ steps: 4 }));
    const b = await run(config({ steps: 4, chunkPrompts: 4 }));
    expect(b.logged.flat().map((x) => x.token_ids)).toEqual(a.logged.flat().map((x) => x.token_ids));
    // Generation in chunks of 4 prompts: a BLAS may sum in another order for other
    // batch sizes, so sampling-time log-probs (and the losses that use them) agree to
    // float precision rather than bit for bit.
    b.steps.forEach((s, i) => expect(s.loss).toBeCloseTo(a.steps[i]?.loss as number, 5));
    const again = await run(config({ steps: 4 }));
    expect(again.steps.map((s) => s.loss)).toEqual(a.steps.map((s) => s.loss));
    dispose(again);
    dispose(a);
    dispose(b);
  });

  it('resumes from a checkpoint plus the steps logged after it, and then equals the uninterrupted run', async () => {
    const dir = await tempDir();
    const full = await run(config({ steps: 6 }));
    // Interrupted after step 5; checkpoints every 2 steps, so steps 5 is only in the log.
    const cut = await run(config({ steps: 6, saveEvery: 2 }), { stopAfter: 5, checkpointDir: dir });
    expect(cut.checkpoints.map((s) => s.step)).toEqual([2, 4]);
    const resumed = await run(config({ steps: 6, saveEvery: 2 }), { from: `${dir}/step-4`, start: cut.checkpoints[1] as RLVRState, logged: cut.logged.slice(4) });
    expect(resumed.steps.map((s) => s.step)).toEqual([5, 6]);
    expect(resumed.steps[0]?.replayed).toBe(true);
    // The resumed run logged only the step it sampled; together nothing is lost or doubled.
    expect([...cut.logged, ...resumed.logged].flat().map((x) => x.token_ids)).toEqual(full.logged.flat().map((x) => x.token_ids));
    expect(resumed.steps.map((s) => s.loss)).toEqual(full.steps.slice(4).map((s) => s.loss));
    const w = (m: Transformer): Float32Array => m.weights.get('model.norm.weight')?.dataSync() as Float32Array;
    expect(Array.from(w(resumed.model))).toEqual(Array.from(w(full.model)));
    [full, cut, resumed].forEach(dispose);
  });

  it('dynamic sampling drops groups whose rewards are all equal, logs them without advantages, and refills', async () => {
    // Reward 1 for any completion of q0..q3 and a real reward for the rest: the first are always degenerate.
    const r = await run(config({ steps: 3, dynamicSampling: true }), {
      score: (s) => Promise.resolve(Number(s.id?.slice(1, 2)) < 4 ? { score: 1, status: 'ok' as const, parts: {}, reason: null } : sevens(s)),
    });
    expect(r.steps).toHaveLength(3);
    const rows = r.logged.flat();
    const dropped = rows.filter((x) => x.advantage === null);
    expect(dropped.length).toBeGreaterThan(0);
    // Every dropped group had all-equal rewards (the same prompt may come twice in a step, from two epochs).
    const droppedGroups = r.logged.flatMap((step) => groupsOf(step)).filter((g) => g.every((x) => x.advantage === null));
    expect(droppedGroups.length * 8).toBe(dropped.length);
    expect(droppedGroups.every((g) => new Set(g.map((x) => x.reward)).size === 1)).toBe(true);
    expect(r.steps.reduce((n, s) => n + s.dropped, 0) * 8).toBe(dropped.length);
    expect(r.steps.map((s) => s.signal).every((x) => x > 0), JSON.stringify(r.steps.map((s) => [s.signal, s.rewardStd]))).toBe(true);
    // Every step still trained on 4 groups.
    r.logged.forEach((step) => expect(step.filter((x) => x.advantage !== null)).toHaveLength(32));
    dispose(r);
  });

  it('dynamic sampling gives up with a clear error when every group is all-equal', async () => {
    await expect(
      run(config({ steps: 2, dynamicSampling: true }), { score: () => Promise.resolve({ score: -2, status: 'format_error' as const, parts: {}, reason: 'x' }) }),
    ).rejects.toThrow(/dynamic sampling dropped 33 groups in a row without filling a batch of 4: every group's completions get the same reward \(e\.g\. -2\)/);
  });

  it('with maxStaleness 1 generates ahead and records the lag', async () => {
    const r = await run(config({ steps: 6, maxStaleness: 1 }));
    expect(r.steps).toHaveLength(6);
    const lags = r.logged.flatMap((rows) => rows.filter((x) => x.advantage !== null).map((x) => x.step - 1 - x.policy_version));
    expect(Math.max(...lags)).toBe(1);
    expect(Math.min(...lags)).toBe(0);
    dispose(r);
  });

  it('excludes completions without a reward from their group, with a warning', async () => {
    const warnings: string[] = [];
    const loaded = await loadCheckpoint(base);
    const c = config({ steps: 1 });
    const learner = new PolicyLearner(loaded.model, c, null, loaded.tokenizer.pad);
    const logged: RolloutRecord[] = [];
    await lastValueFrom(
      rlvr({
        learner,
        tokenizer: loaded.tokenizer,
        examples: task.examples,
        config: c,
        score: (s) => Promise.resolve(s.id?.endsWith('#0') ? { score: null, status: 'timeout' as const, parts: {}, reason: 'slow' } : sevens(s)),
        runId: 't',
        writeRollouts: (rows) => {
          logged.push(...rows);
          return Promise.resolve();
        },
        warn: (m) => warnings.push(m),
      }),
    );
    expect(logged.filter((x) => x.group_idx === 0).every((x) => x.advantage === null && x.reward === null && x.status === 'timeout')).toBe(true);
    expect(warnings).toHaveLength(4);
    expect(warnings[0]).toMatch(/1 of 8 completions have no reward \(timeout\)/);
    learner.dispose();
    loaded.model.dispose();
  });

  it('stops generating when unsubscribed and leaks no tensors', async () => {
    const loaded = await loadCheckpoint(base);
    const c = config({ steps: 100 });
    const learner = new PolicyLearner(loaded.model, c, null, loaded.tokenizer.pad);
    const before = tf.memory().numTensors;
    const steps = await lastValueFrom(rlvr({ learner, tokenizer: loaded.tokenizer, examples: task.examples, config: c, score: (s) => Promise.resolve(sevens(s)), runId: 't', writeRollouts: () => Promise.resolve() }).pipe(take(2), toArray()));
    expect(steps).toHaveLength(2);
    await new Promise((r) => setTimeout(r, 200));
    expect(tf.memory().numTensors).toBe(before);
    learner.dispose();
    loaded.model.dispose();
  });

  it('rejects a prompt that leaves no room for the completion, naming it', async () => {
    const loaded = await loadCheckpoint(base);
    const c = config({ maxNewTokens: 31 });
    const learner = new PolicyLearner(loaded.model, c, null, loaded.tokenizer.pad);
    await expect(lastValueFrom(rlvr({ learner, tokenizer: loaded.tokenizer, examples: task.examples, config: c, score: (s) => Promise.resolve(sevens(s)), runId: 't', writeRollouts: () => Promise.resolve() }))).rejects.toThrow(
      /example 'q0' has \d+ prompt tokens; with maxNewTokens 31 that exceeds the model's 32 positions/,
    );
    learner.dispose();
    loaded.model.dispose();
  });
});
