/**
 * The reward pool: Piscina worker threads, one per core by default, each with warm
 * reward modules and sandboxes.
 *
 * Admission is bounded: at most `size` tasks run (so deadlines are measured from when
 * a task really starts), at most `maxQueue` wait, and a caller beyond that gets an
 * error rather than unbounded memory growth. Every task has a deadline: Python code is
 * interrupted `limits.timeoutMs` after it starts running (KeyboardInterrupt inside the
 * interpreter, which stays usable); if it is still running `graceMs` later, or the
 * whole task exceeds `taskTimeoutMs`, the worker is terminated and replaced, and the
 * result is a `timeout`. The caller's own AbortSignal cancels too.
 *
 * Deadlines measure the check, not this thread. This thread also runs TF.js
 * generation, which holds it for seconds; so the interrupt is written by the worker's
 * own deadline thread, and this thread's timer is only a backstop: it measures from
 * the times the worker stamped (when it started the task, when Python started), and
 * never ends a task the worker has stamped as finished, whose result is merely waiting
 * for this thread to read it. Busy time (`stats.busyMs`) is the workers' own measure
 * too, so a stalled main thread does not count as a busy pool.
 */
import { availableParallelism } from 'node:os';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { composeResults } from './compose.js';
import { resolveRewardSpecs, type RewardSpec } from './registry.js';
import type { RewardResult, RewardSample } from './types.js';
import { DEFAULT_LIMITS, type SandboxLimits } from '../sandbox/limits.js';
import { CTRL, type RewardTask } from './protocol.js';
import { Semaphore } from '../util/semaphore.js';

export interface RewardPoolConfig {
  /** Worker threads; default: one per core. */
  readonly size?: number;
  /** Tasks allowed to wait for a worker before `score` throws `PoolFullError`; default 1024. */
  readonly maxQueue?: number;
  readonly limits?: Partial<SandboxLimits>;
  /** Deadline of a whole task, including a first-use interpreter load (~3 s). */
  readonly taskTimeoutMs?: number;
  /** How long interrupted code may take to stop before its worker is terminated. */
  readonly graceMs?: number;
  /** JS heap limit of each worker, MiB (custom rewards written in JS). */
  readonly workerHeapMb?: number;
  /** How long an admitted task may wait for a worker to start it before `score` throws `PoolStalledError`; default 120 s. */
  readonly startTimeoutMs?: number;
}

/** Thrown when more tasks are submitted than the pool admits. */
export class PoolFullError extends Error {}

/** Thrown when no worker starts an admitted task in time: the pool is broken, not the sample. */
export class PoolStalledError extends Error {}

/** The newest modification time (ms) of any file under `dir`. */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** From the sources: the compiled worker `npm run build` writes, and the choice made once per process. */
const BUILT_WORKER = new URL('../../dist/reward/worker.js', import.meta.url);
let fromSources: { filename: string; execArgv: string[] } | undefined;

/** The worker script the pool starts, and the Node flags it needs. */
export function rewardWorkerFile(): { filename: string; execArgv: string[] } {
  const js = new URL('./worker.js', import.meta.url);
  if (existsSync(fileURLToPath(js))) return { filename: js.href, execArgv: [] };
  // Running from the TypeScript sources (tests, tsx, scripts/). A worker started with
  // tsx's loader hooks (`--import tsx`) sometimes never takes its first task, with both
  // threads idle: seen in a loaded `npm test` (test/pipeline/replicate.test.ts hung) and
  // in scripts/world-probe.ts. So take the built worker when dist/ is newer than every
  // source file (`npm test` builds first), and the tsx one only when dist/ is stale.
  // Decided once per process: the walk over src/ is not repeated for every pool.
  fromSources ??= builtWorkerIsFresh()
    ? { filename: BUILT_WORKER.href, execArgv: [] }
    : { filename: new URL('./worker.ts', import.meta.url).href, execArgv: ['--import', 'tsx'] };
  return fromSources;
}

function builtWorkerIsFresh(): boolean {
  const built = fileURLToPath(BUILT_WORKER);
  return existsSync(built) && statSync(built).mtimeMs >= newestMtime(fileURLToPath(new URL('..', import.meta.url)));
}

/**
 * @example
 * const pool = new RewardPool();
 * const r = await pool.score({ prompt, completion, row }, [{ ref: 'math' }]);
 * await pool.close();
 */
export class RewardPool {
  readonly size: number;
  readonly maxQueue: number;
  readonly limits: SandboxLimits;
  private readonly piscina: Piscina;
  private readonly epoch = Date.now();
  private readonly taskTimeoutMs: number;
  private readonly graceMs: number;
  private readonly startTimeoutMs: number;
  private readonly admission: Semaphore;
  /** Each reward list `score` was given, resolved and checked (`resolveRewardSpecs`). */
  private readonly resolved = new WeakMap<readonly RewardSpec[], RewardSpec[]>();
  private closed = false;
  /**
   * Counters for progress displays and benchmarks. `busyMs` is the time workers spent
   * on finished tasks by their own clocks (queueing and a late-reading main thread
   * excluded), so `busyMs / (size × wall time)` is the pool's utilisation.
   */
  readonly stats = { done: 0, timeouts: 0, crashes: 0, busyMs: 0, poolErrors: 0 };

  constructor(config: RewardPoolConfig = {}) {
    this.size = config.size ?? Math.max(1, availableParallelism());
    this.maxQueue = config.maxQueue ?? 1024;
    this.limits = { ...DEFAULT_LIMITS, ...config.limits };
    this.taskTimeoutMs = config.taskTimeoutMs ?? 30_000;
    this.admission = new Semaphore(this.size, this.maxQueue, (n) => new PoolFullError(`reward pool queue is full (${n} waiting); bound the caller's concurrency`));
    this.graceMs = config.graceMs ?? 1000;
    this.startTimeoutMs = config.startTimeoutMs ?? 120_000;
    const { filename, execArgv } = rewardWorkerFile();
    this.piscina = new Piscina({
      filename,
      execArgv,
      minThreads: this.size,
      maxThreads: this.size,
      idleTimeout: Number.POSITIVE_INFINITY,
      resourceLimits: { maxOldGenerationSizeMb: config.workerHeapMb ?? 512 },
    });
    // Piscina reports some races as 'error' events on the pool itself, e.g. the result of
    // a task that was cancelled (its caller already got 'unscorable') arriving after the
    // cancellation: "Unexpected message from Worker". Unhandled, that event would kill the
    // process; the task's own promise has already settled, so count it and carry on.
    this.piscina.on('error', () => {
      this.stats.poolErrors++;
    });
  }

  private async admit(): Promise<void> {
    if (this.closed) throw new Error('the reward pool is closed');
    await this.admission.acquire();
  }

  /** Scores one sample with `rewards` (validated here, before any work; once per list, as callers pass the same list for every sample). */
  async score(sample: RewardSample, rewards: readonly RewardSpec[], options: { signal?: AbortSignal } = {}): Promise<RewardResult> {
    let specs = this.resolved.get(rewards);
    if (!specs) this.resolved.set(rewards, (specs = resolveRewardSpecs(rewards)));
    await this.admit();
    const ctrl = new SharedArrayBuffer(16);
    const view = new Int32Array(ctrl);
    const abort = new AbortController();
    let why: string | null = null;
    // Admission holds a worker for this task, so only a stuck worker leaves it unstarted.
    // The wait counts only while this thread is responsive (ticks at most 100 ms apart
    // count in full): a long generation call here must not look like a stuck worker.
    let stalled = false;
    let unstartedMs = 0;
    let lastTick = Date.now() - this.epoch;
    const onCallerAbort = (): void => {
      why = 'cancelled by the caller';
      abort.abort();
    };
    options.signal?.addEventListener('abort', onCallerAbort, { once: true });
    // The backstop. After a stall of this thread it may run before the worker's result
    // is read, so it consults the worker's stamps: a finished task is left alone, and
    // the limits are measured from when the worker really started.
    const backstop = setInterval(() => {
      if (abort.signal.aborted || Atomics.load(view, CTRL.taskEnded) > 0) return;
      const now = Date.now() - this.epoch;
      const taskStarted = Atomics.load(view, CTRL.taskStarted);
      const runStarted = Atomics.load(view, CTRL.runStarted);
      if (taskStarted === 0) unstartedMs += Math.min(now - lastTick, 100);
      lastTick = now;
      if (runStarted > 0 && now > runStarted + this.limits.timeoutMs + this.graceMs) {
        why = `code ignored the interrupt for ${this.graceMs} ms after the ${this.limits.timeoutMs} ms limit`;
        abort.abort();
      } else if (taskStarted > 0 && now > taskStarted + this.taskTimeoutMs) {
        why = `the reward took longer than ${this.taskTimeoutMs} ms`;
        abort.abort();
      } else if (taskStarted === 0 && unstartedMs > this.startTimeoutMs) {
        stalled = true;
        abort.abort();
      }
    }, 20);
    const task: RewardTask = { sample, rewards: specs, limits: this.limits, ctrl, epoch: this.epoch };
    try {
      const result = (await this.piscina.run(task, { signal: abort.signal })) as RewardResult;
      return result;
    } catch (e) {
      if (stalled) {
        throw new PoolStalledError(
          `no reward worker started a task within ${this.startTimeoutMs} ms (${this.size} workers, ${fileURLToPath(rewardWorkerFile().filename)}); the workers are stuck, so the run stops rather than score samples as timeouts. From the TypeScript sources, run \`npm run build\` first (a worker under tsx's loader sometimes never starts)`,
        );
      }
      if (abort.signal.aborted) {
        this.stats.timeouts++;
        const status = why === 'cancelled by the caller' ? 'unscorable' : 'timeout';
        return timeoutResult(specs, status, why ?? 'aborted');
      }
      this.stats.crashes++;
      return timeoutResult(specs, 'crashed', `the worker died: ${e instanceof Error ? e.message : String(e)}`.slice(0, 500));
    } finally {
      clearInterval(backstop);
      options.signal?.removeEventListener('abort', onCallerAbort);
      this.stats.done++;
      this.stats.busyMs += workerBusyMs(view, Date.now() - this.epoch);
      this.admission.release();
    }
  }

  /** Starts every worker's interpreters now rather than on first use. */
  async warmup(languages: readonly ('python' | 'javascript')[] = ['python', 'javascript']): Promise<void> {
    const row = (language: string) => ({ test: 'def check(c):\n  assert c() == 1\n', entry_point: 'f', language, prompt: '' });
    const code = { python: 'def f():\n  return 1\n', javascript: 'function f() { return 1; }' };
    const jsTest = 'function check(c) { if (c() !== 1) throw new Error("bad"); }';
    await Promise.all(
      Array.from({ length: this.size }, () =>
        Promise.all(
          languages.map((l) =>
            this.score({ prompt: '', completion: code[l], row: l === 'python' ? row(l) : { ...row(l), test: jsTest } }, [{ ref: 'code' }]),
          ),
        ),
      ),
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.piscina.destroy();
  }
}

/**
 * How long a worker was at a task: its own measure when it finished it; for a worker
 * terminated mid-task, from its start stamp until now (it was busy until replaced);
 * 0 for a task no worker began.
 */
function workerBusyMs(view: Int32Array, now: number): number {
  if (Atomics.load(view, CTRL.taskEnded) > 0) return Atomics.load(view, CTRL.busyUs) / 1000;
  const taskStarted = Atomics.load(view, CTRL.taskStarted);
  return taskStarted > 0 ? Math.max(0, now - taskStarted) : 0;
}

function timeoutResult(specs: readonly RewardSpec[], status: 'timeout' | 'crashed' | 'unscorable', reason: string): RewardResult {
  return composeResults(specs.map((s) => ({ id: s.ref, weight: s.weight ?? 1, result: { score: null, status, parts: {}, reason } })));
}
