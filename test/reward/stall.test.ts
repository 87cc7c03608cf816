// A blocked main thread (TF.js generation holds it for long stretches) must not change
// any check's verdict: a check that finished in the worker keeps its result however
// late the main thread reads it, and one that really runs past its deadline is still
// a timeout. Bounds here are loose on purpose: the machine may be loaded.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PoolStalledError, RewardPool, rewardWorkerFile } from '../../src/reward/pool.js';
import type { RewardResult, RewardSample } from '../../src/reward/types.js';

/** Holds the main thread the way a long synchronous generation call does. */
function blockMainThread(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spin: no timer, no message, no promise runs meanwhile
  }
}

/**
 * Submits a check, lets the pool hand it to a worker (Piscina posts synchronously to a
 * ready worker), then blocks the main thread for `blockMs` before the result can be read.
 */
async function scoreWhileBlocked(pool: RewardPool, sample: RewardSample, ref: string, blockMs: number): Promise<RewardResult> {
  const pending = pool.score(sample, [{ ref }]);
  await new Promise<void>((resolve) => setImmediate(resolve));
  blockMainThread(blockMs);
  return pending;
}

const KK_ROW = { names: ['Zoey', 'Oliver'], solution: [true, false], roles: ['knight', 'knave'] };
const PY_TEST = 'def check(candidate):\n    assert candidate(2) == 4\n';
const PY_OK = 'def square(x):\n    return x * x\n';
const JS_TEST = 'function check(candidate) { if (candidate(2) !== 4) throw new Error("AssertionError: expected 4"); }';
const JS_OK = 'function square(x) { return x * x; }';
const py = (program: string): RewardSample => ({ prompt: '', completion: program, row: { test: PY_TEST, entry_point: 'square', prompt: '' } });
const js = (program: string): RewardSample => ({ prompt: '', completion: program, row: { test: JS_TEST, entry_point: 'square', prompt: '', language: 'javascript' } });

describe('fast checks while the main thread is blocked past every deadline', () => {
  // A short task deadline, so a block longer than it stays short too.
  const TASK_MS = 1500;
  const BLOCK_MS = TASK_MS + 2000;
  let pool: RewardPool;
  beforeAll(async () => {
    pool = new RewardPool({ size: 1, taskTimeoutMs: TASK_MS, graceMs: 200, limits: { timeoutMs: 500 } });
    // Load QuickJS before the short deadline matters; retry once if a loaded machine made the first load slow.
    for (let i = 0; i < 2; i++) if ((await pool.score(js(JS_OK), [{ ref: 'code' }])).status === 'ok') break;
  }, 60_000);
  afterAll(() => pool.close());
  // Each case starts with a ready, warm worker (a replaced one would take the task only after the block).
  beforeEach(async () => {
    await pool.score(js(JS_OK), [{ ref: 'code' }]);
  });

  it('a K&K check that ends in format_error stays format_error', async () => {
    const r = await scoreWhileBlocked(pool, { prompt: 'Q', completion: 'no tags at all', row: KK_ROW }, 'kk', BLOCK_MS);
    expect(r.status, r.reason ?? '').toBe('format_error');
    expect(r.score).toBe(-2);
  });

  it('a JavaScript check that passes stays ok', async () => {
    const r = await scoreWhileBlocked(pool, js(JS_OK), 'code', BLOCK_MS);
    expect(r.status, r.reason ?? '').toBe('ok');
  });

  it("counts the worker's time on the check, not the main thread's stall", async () => {
    const before = pool.stats.busyMs;
    const r = await scoreWhileBlocked(pool, { prompt: 'Q', completion: 'no tags at all', row: KK_ROW }, 'kk', BLOCK_MS);
    expect(r.status).toBe('format_error');
    const busy = pool.stats.busyMs - before;
    expect(busy).toBeGreaterThanOrEqual(0);
    expect(busy).toBeLessThan(BLOCK_MS / 2);
  });
});

describe('Python checks while the main thread is blocked', () => {
  const LIMIT_MS = 1000;
  // Grace for the worker's own interrupt: generous, because on a loaded 2-core machine
  // (a clean clone's first test run) the deadline thread's timer can fire a second late;
  // the main thread stays blocked past limit + grace, so the backstop could act.
  const GRACE_MS = 3000;
  const BLOCK_MS = LIMIT_MS + GRACE_MS + 2000;
  let pool: RewardPool;
  beforeAll(async () => {
    pool = new RewardPool({ size: 1, taskTimeoutMs: 20_000, graceMs: GRACE_MS, limits: { timeoutMs: LIMIT_MS } });
    await pool.warmup(['python']);
  }, 60_000);
  afterAll(() => pool.close());

  const benign = async (): Promise<void> => {
    const r = await pool.score(py(PY_OK), [{ ref: 'code' }]);
    expect(r.status, r.reason ?? '').toBe('ok');
  };

  it('a passing check stays ok', async () => {
    const r = await scoreWhileBlocked(pool, py(PY_OK), 'code', BLOCK_MS);
    expect(r.status, r.reason ?? '').toBe('ok');
  });

  it('an infinite loop is still a timeout, stopped by the worker near its own deadline', async () => {
    const before = pool.stats.busyMs;
    const r = await scoreWhileBlocked(pool, py('while True:\n    pass\n' + PY_OK), 'code', BLOCK_MS);
    expect(r.status, r.reason ?? '').toBe('timeout');
    // The worker interrupts the loop itself, without waiting for the main thread.
    expect(r.reason).toMatch(/interrupted at the time limit/);
    expect(pool.stats.busyMs - before).toBeLessThan(LIMIT_MS + GRACE_MS);
    await benign();
  });

  it('a loop that swallows the interrupt is still a timeout (its worker is replaced)', async () => {
    const r = await scoreWhileBlocked(pool, py('while True:\n    try:\n        while True: pass\n    except BaseException:\n        pass\n'), 'code', BLOCK_MS);
    expect(r.status, r.reason ?? '').toBe('timeout');
    expect(r.reason).toMatch(/ignored the interrupt/);
    await pool.warmup(['python']);
    await benign();
  });
});

describe('a task no worker starts', () => {
  const kk = { prompt: 'Q', completion: 'no tags at all', row: KK_ROW };

  it('stops the caller with PoolStalledError instead of hanging (here: a start deadline shorter than a worker boot)', async () => {
    const pool = new RewardPool({ size: 1, startTimeoutMs: 1 });
    try {
      const error: unknown = await pool.score(kk, [{ ref: 'kk' }]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PoolStalledError);
      expect((error as Error).message).toMatch(/no reward worker started a task within 1 ms .*npm run build/);
    } finally {
      await pool.close();
    }
  });

  it('does not count a blocked main thread as waiting: a worker that boots meanwhile takes the task', async () => {
    const pool = new RewardPool({ size: 1, startTimeoutMs: 2000 });
    try {
      const r = await scoreWhileBlocked(pool, kk, 'kk', 3000);
      expect(r.status, r.reason ?? '').toBe('format_error');
    } finally {
      await pool.close();
    }
  });
});

describe('the worker the pool starts from the TypeScript sources', () => {
  it('is the built one when dist/ is up to date (npm test builds first): workers under tsx hooks sometimes never start', () => {
    const { filename, execArgv } = rewardWorkerFile();
    expect(filename.endsWith('/dist/reward/worker.js')).toBe(true);
    expect(execArgv).toEqual([]);
  });
});
