/** What the pool sends a worker and gets back: structured-cloneable data only. */
import type { RewardSpec } from './registry.js';
import type { RewardResult, RewardSample } from './types.js';
import type { SandboxLimits } from '../sandbox/limits.js';

/**
 * Slots of the per-task control buffer the worker writes and the pool thread reads.
 *
 * The worker stamps its own progress here because the pool thread cannot see it
 * otherwise in time: that thread also runs generation and may read a result seconds
 * after the worker posted it. With these stamps its backstop measures how long the
 * worker has really been at a task, and never ends one that already finished.
 */
export const CTRL = {
  /** ms since `epoch` when the worker began the task; 0 before. */
  taskStarted: 0,
  /** ms since `epoch` when untrusted Python began running; 0 when none runs. */
  runStarted: 1,
  /** ms since `epoch` when the worker finished the task (its result is on its way); 0 before. */
  taskEnded: 2,
  /** µs the worker spent on the task by its own clock; set with `taskEnded`. */
  busyUs: 3,
} as const;

export interface RewardTask {
  readonly sample: RewardSample;
  readonly rewards: readonly RewardSpec[];
  readonly limits: SandboxLimits;
  /** Int32Array(4) over a SharedArrayBuffer; see CTRL. */
  readonly ctrl: SharedArrayBuffer;
  readonly epoch: number;
}

export type RewardTaskResult = RewardResult;
