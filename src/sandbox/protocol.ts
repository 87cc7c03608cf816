/** What the pool sends a worker and gets back: structured-cloneable data only. */
import type { RewardSpec } from '../reward/registry.js';
import type { RewardResult, RewardSample } from '../reward/types.js';
import type { SandboxLimits } from './limits.js';

/** Slots of the per-task control buffer shared by the pool thread and the worker. */
export const CTRL = {
  /** Pyodide's interrupt flag: the pool writes 2 (SIGINT) at the deadline. */
  interrupt: 0,
  /** ms since `epoch` when the worker began the task; 0 before. */
  taskStarted: 1,
  /** ms since `epoch` when untrusted code began running; 0 when none runs. */
  runStarted: 2,
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
