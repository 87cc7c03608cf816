/**
 * GRPO's batch logic, shared by the live RL stage, resume and replay: a group's shaped
 * rewards and advantages, which logged groups a step trained on, and a batch's summary.
 * The rows a step trains on are always built from its logged records
 * (`policyRowsFromLog`), so the live run, a resumed run and a replay take the same path
 * from log row to gradient.
 */
import type { RolloutRecord } from '../data/schemas.js';
import { groupAdvantages, overlongPenalty, type AdvantageKind } from './grpo.js';
import { groupsOf } from './rollout-log.js';

/** How rewards are shaped before advantages. */
export interface ShapingConfig {
  readonly overlong: 'none' | 'mask' | 'soft';
  readonly maxNewTokens: number;
  readonly overlongCache: number;
  readonly advantage: AdvantageKind;
}

/** The reward a completion trains on: the verifier's, plus the soft overlong penalty when configured. */
export function shapedReward(score: number | null, length: number, c: ShapingConfig): number | null {
  if (score === null || !Number.isFinite(score)) return null;
  return c.overlong === 'soft' ? score + overlongPenalty(length, c.maxNewTokens, c.overlongCache) : score;
}

/** A group's training rewards and advantages (Float32, as logged, so a resumed or replayed step trains on exactly these values). */
export interface ScoredGroup {
  readonly rewards: (number | null)[];
  readonly advantages: (number | null)[];
  /** Every reward equal: nothing to learn from this group. */
  readonly degenerate: boolean;
  /** Completions without a reward, left out of the group. */
  readonly excluded: number;
}

/** Shapes the verifier scores of one group's completions and computes their advantages. */
export function scoreGroup(scores: readonly (number | null)[], lengths: readonly number[], c: ShapingConfig): ScoredGroup {
  const rewards = scores.map((s, i) => shapedReward(s, lengths[i] as number, c));
  const adv = groupAdvantages(rewards, c.advantage);
  return { rewards, advantages: adv.advantages.map((a) => (a === null ? null : Math.fround(a))), degenerate: adv.degenerate, excluded: adv.excluded };
}

/** The records of the groups a logged step trained on: a dropped group is logged with every advantage null. */
export function trainedRecords(records: readonly RolloutRecord[]): RolloutRecord[] {
  return groupsOf(records).filter((g) => g.some((r) => r.advantage !== null)).flat();
}

/** What one step's trained completions looked like. */
export interface BatchSummary {
  /** Mean and spread of the batch's rewards (completions without one left out). */
  readonly rewardMean: number;
  readonly rewardStd: number;
  /** Share of the batch's completions with status ok. */
  readonly passRate: number;
  /** Completions with a null reward (timeout, crash, unscorable): excluded from their groups. */
  readonly unscored: number;
  readonly completionLength: number;
  /** Share of completions cut at maxNewTokens. */
  readonly truncated: number;
  /** Share of the batch's completions with a non-zero advantage (0: every group all-equal, nothing to learn). */
  readonly signal: number;
  /** Mean lag, in policy versions, of the trained groups. */
  readonly staleness: number;
}

function stats(xs: readonly number[]): { mean: number; std: number } {
  if (xs.length === 0) return { mean: Number.NaN, std: Number.NaN };
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return { mean, std: Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / xs.length) };
}

/** The summary of a step's trained records; `version` is the policy version after the update. */
export function batchSummary(batch: readonly RolloutRecord[], version: number): BatchSummary {
  const scored = batch.map((r) => r.reward).filter((r): r is number => r !== null);
  const { mean, std } = stats(scored);
  const n = Math.max(1, batch.length);
  return {
    rewardMean: mean,
    rewardStd: std,
    passRate: batch.filter((r) => r.status === 'ok').length / n,
    unscored: batch.length - scored.length,
    completionLength: stats(batch.map((r) => r.token_ids.length)).mean,
    truncated: batch.filter((r) => r.finish_reason === 'length').length / n,
    signal: batch.filter((r) => r.advantage !== null && r.advantage !== 0).length / n,
    staleness: stats(batch.map((r) => version - 1 - r.policy_version)).mean,
  };
}
