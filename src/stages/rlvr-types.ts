/** The RL stage's interface: what it needs (RLVRDeps), what it emits per update (RLVRStep) and what it saves to resume (RLVRState). */
import type { RolloutRecord } from '../data/schemas.js';
import type { Tokenizer } from '../model/tokenizer.js';
import type { RewardResult, RewardSample } from '../reward/types.js';
import type { BatchSummary } from '../train/grpo-batch.js';
import type { PolicyLearner, UpdateStats } from '../train/policy.js';
import type { RLVRConfig } from './rlvr-config.js';
import type { RLExample } from './rollout.js';

/** What the run saves to resume. */
export interface RLVRState {
  /** Updates done (= the policy version). */
  readonly step: number;
  /** Groups consumed from the prompt order. */
  readonly cursor: number;
}

/** Metrics of one update. */
export interface RLVRStep extends UpdateStats, BatchSummary {
  readonly step: number;
  readonly totalSteps: number;
  /** Groups consumed from the prompt order after this step (save with `step` to resume). */
  readonly cursor: number;
  readonly lr: number;
  /** Groups dropped since the last step (dynamic sampling or staleness). */
  readonly dropped: number;
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
  /** Prompt token ids already encoded (the CLI's memory check does), used instead of encoding again. */
  readonly promptIds?: ReadonlyMap<string, number[]>;
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

