// The RL stage's small parts on their own: credits, busy clocks, the prompt cursor, the
// chunk plan and the group batcher (the stage's end-to-end tests are in rlvr.test.ts).
import { lastValueFrom, take, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { ScoredGroup } from '../../src/train/grpo-batch.js';
import { GroupBatcher, MAX_DROPS_PER_STEP } from '../../src/stages/rlvr-batcher.js';
import { BusyClock, chunkRequests, Credits } from '../../src/stages/rlvr-clocks.js';
import { chunkPlan, promptAt, type RLExample, type Scored } from '../../src/stages/rollout.js';

const never = new AbortController().signal;

describe('credits', () => {
  it('hands out at most what is available and what the run still needs, and waits for a release', async () => {
    const c = new Credits(3, 5);
    expect(await c.take(2, never)).toBe(2);
    expect(await c.take(4, never)).toBe(1);
    let got: number | null = -1;
    const waiting = c.take(4, never).then((n) => (got = n));
    await Promise.resolve();
    expect(got).toBe(-1);
    c.release(3);
    await waiting;
    expect(got).toBe(2); // 3 available again, but only 2 of the run's 5 remain
    c.release(1);
    c.grant(1);
    expect(await c.take(4, never)).toBe(1);
  });

  it('returns null once cancelled, also while waiting', async () => {
    const abort = new AbortController();
    const c = new Credits(0, 10);
    const waiting = c.take(1, abort.signal);
    abort.abort();
    c.wake();
    expect(await waiting).toBeNull();
    expect(await new Credits(5, 5).take(1, abort.signal)).toBeNull();
  });

  it('chunkRequests walks the prompt cursor in chunks while credits last', async () => {
    const c = new Credits(5, 7);
    const firstTwo = await lastValueFrom(chunkRequests(c, 10, 2, never).pipe(take(3), toArray()));
    expect(firstTwo).toEqual([{ cursor: 10, n: 2 }, { cursor: 12, n: 2 }, { cursor: 14, n: 1 }]);
  });
});

describe('busy clock', () => {
  it('counts overlapping work once in busy time and fully in work time', async () => {
    const clock = new BusyClock();
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    await Promise.all([clock.time(() => sleep(60)), clock.time(() => sleep(60))]);
    expect(clock.busyMs).toBeGreaterThanOrEqual(55);
    expect(clock.busyMs).toBeLessThan(clock.workMs);
    expect(clock.workMs).toBeGreaterThanOrEqual(110);
    const open = clock.enter();
    await sleep(20);
    expect(clock.busyNow()).toBeGreaterThan(clock.busyMs);
    clock.leave(open);
  });
});

describe('prompt order', () => {
  it('visits every prompt once per epoch, in a seeded order that changes between epochs', () => {
    const epoch = (e: number) => Array.from({ length: 10 }, (_, i) => promptAt(e * 10 + i, 10, 7));
    expect([...epoch(0)].sort((a, b) => a - b)).toEqual([...Array(10).keys()]);
    expect(epoch(1)).not.toEqual(epoch(0));
    expect(epoch(0)).toEqual(epoch(0));
    const examples: RLExample[] = Array.from({ length: 10 }, (_, i) => ({ id: `e${i}`, prompt: `p${i}`, row: {} }));
    const plan = chunkPlan({ cursor: 3, n: 2 }, examples, 4, 7, (ex) => [Number(ex.id.slice(1))], new Map());
    expect(plan.chunk.map((e) => e.id)).toEqual([`e${epoch(0)[3] as number}`, `e${epoch(0)[4] as number}`]);
    expect(plan.prompts).toHaveLength(8);
    expect(new Set(plan.seeds).size).toBe(8);
  });
});

describe('group batcher', () => {
  const member = (version: number) => ({ version }) as unknown as Scored;
  const group = (rewards: number[]): ScoredGroup => ({ rewards, advantages: rewards.map((r) => r - rewards.reduce((a, b) => a + b, 0) / rewards.length), degenerate: new Set(rewards).size === 1, excluded: 0 });

  it('fills batches of promptsPerStep, drops all-equal and stale groups, refills them, and logs them with the next batch', async () => {
    const credits = new Credits(0, 0);
    const b = new GroupBatcher({ promptsPerStep: 2, maxStaleness: 1, dynamicSampling: true }, credits);
    expect(b.add([member(5)], group([1, 0]), 5)).toBeNull();
    expect(b.add([member(5)], group([1, 1]), 5)).toBeNull(); // degenerate: dropped
    expect(b.droppedSinceStep).toBe(1);
    // The drop freed a credit and granted one more to the run.
    expect(await credits.take(10, never)).toBe(1);
    const full = b.add([member(5)], group([0, 1]), 5);
    expect(full?.batch).toHaveLength(2);
    expect(full?.dropped).toHaveLength(1);
    expect(full?.dropped[0]?.advantages).toEqual([null, null]);
    // Stale: made by version 1, trained at version 5 with maxStaleness 1.
    expect(b.add([member(1)], group([1, 0]), 5)).toBeNull();
    expect(b.add([member(5)], group([1, 0]), 5)).toBeNull();
    expect(b.add([member(5)], group([0, 1]), 5)?.dropped).toHaveLength(1);
  });

  it('keeps all-equal groups without dynamic sampling, and gives up when nothing can fill a batch', () => {
    const keep = new GroupBatcher({ promptsPerStep: 1, maxStaleness: 0, dynamicSampling: false }, new Credits(0, 0));
    expect(keep.add([member(0)], group([1, 1]), 0)?.batch).toHaveLength(1);
    const hopeless = new GroupBatcher({ promptsPerStep: 1, maxStaleness: 0, dynamicSampling: true }, new Credits(0, 0));
    for (let i = 0; i < MAX_DROPS_PER_STEP; i++) expect(hopeless.add([member(0)], group([0, 0]), 0)).toBeNull();
    expect(() => hopeless.add([member(0)], group([0, 0]), 0)).toThrow(/dropped 9 groups in a row without filling a batch of 1/);
  });
});
