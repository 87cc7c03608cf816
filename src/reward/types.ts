/**
 * The reward plug-in contract.
 *
 * A reward is a module with an exact `id` and a `score(sample, options)` function that
 * returns `{ score, status, parts, reason }`. `score: null` means "cannot score" (a
 * timeout, a crash, a row without ground truth), which is not the same as 0. Rewards
 * run inside sandbox pool workers, so samples, options and results are plain
 * structured-cloneable data, never closures.
 */
import type { CheckResult, CodeTask, SandboxLimits } from '../sandbox/limits.js';

/** What happened when scoring. */
export type RewardStatus = 'ok' | 'wrong' | 'format_error' | 'timeout' | 'crashed' | 'unscorable';

export const REWARD_STATUSES: readonly RewardStatus[] = ['ok', 'wrong', 'format_error', 'timeout', 'crashed', 'unscorable'];

/** One completion to score, with the ground-truth columns of its dataset row. */
export interface RewardSample {
  /** Optional id, carried through for logs. */
  readonly id?: string;
  readonly prompt: string;
  readonly completion: string;
  /** Ground truth and metadata from the dataset row (e.g. solution, answer, test, entry_point). */
  readonly row: Readonly<Record<string, unknown>>;
}

/** A reward's verdict. */
export interface RewardResult {
  /** The reward, or null when the sample cannot be scored. */
  readonly score: number | null;
  readonly status: RewardStatus;
  /** Named components of the score (e.g. format and answer), for logs and composition. */
  readonly parts: Readonly<Record<string, number | null>>;
  /** Why, in words, for anything but a plain pass. */
  readonly reason: string | null;
}

/** Options are plain JSON. */
export type RewardOptions = Readonly<Record<string, unknown>>;

/** A language the sandbox runs. */
export type CodeLanguage = 'python' | 'javascript';

/** Runs one program against its tests in the sandbox of its language, within `limits`. */
export type CodeRunner = (language: CodeLanguage, task: CodeTask, limits: SandboxLimits) => Promise<CheckResult>;

/** What the host that runs a reward gives it: the pool's worker passes its sandbox runner. */
export interface RewardContext {
  readonly runCode?: CodeRunner;
}

/** A reward module: what a custom reward file exports (as named exports or a default object). */
export interface RewardModule {
  readonly id: string;
  readonly description?: string;
  score(sample: RewardSample, options: RewardOptions, context?: RewardContext): RewardResult | Promise<RewardResult>;
  /** Parses the options, throwing `RewardOptionError` for a bad one: hosts call it once, before any work, so a typo fails fast instead of every sample. */
  checkOptions?(options: RewardOptions): unknown;
}

/** Builds a result; `parts` defaults to `{ [id]: score }`-free empty. */
export function makeResult(
  status: RewardStatus,
  score: number | null,
  reason: string | null = null,
  parts: Record<string, number | null> = {},
): RewardResult {
  return { score, status, parts, reason };
}

/** Thrown for a bad reward option: names the reward, the option and what it takes. */
export class RewardOptionError extends Error {
  constructor(reward: string, option: string, expected: string, got: unknown) {
    super(`reward '${reward}': option '${option}' must be ${expected}, got ${JSON.stringify(got)}`);
    this.name = 'RewardOptionError';
  }
}

/** Reads a numeric option with a default. */
export function numberOption(reward: string, options: RewardOptions, name: string, fallback: number): number {
  const v = options[name];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new RewardOptionError(reward, name, 'a finite number', v);
  return v;
}

/** Reads a string option restricted to `choices`. */
export function choiceOption<T extends string>(reward: string, options: RewardOptions, name: string, choices: readonly T[], fallback: T): T {
  const v = options[name];
  if (v === undefined) return fallback;
  if (typeof v !== 'string' || !choices.includes(v as T)) throw new RewardOptionError(reward, name, `one of ${choices.join(', ')}`, v);
  return v as T;
}

/** Rejects options the reward does not know, so a typo never silently does nothing. */
export function checkOptionNames(reward: string, options: RewardOptions, known: readonly string[]): void {
  for (const k of Object.keys(options)) {
    if (!known.includes(k)) throw new Error(`reward '${reward}': unknown option '${k}' (known: ${known.join(', ') || 'none'})`);
  }
}

/** verl's ground truth of a row (`reward_model.ground_truth`), if it has one. */
export function groundTruth(row: Readonly<Record<string, unknown>>): unknown {
  const rm = row.reward_model;
  return rm !== null && typeof rm === 'object' ? (rm as { ground_truth?: unknown }).ground_truth : undefined;
}
