import { describe, expect, it } from 'vitest';
import type { RolloutRecord } from '../../src/data/schemas.js';
import { batchSummary, scoreGroup, shapedReward, trainedRecords } from '../../src/train/grpo-batch.js';

const rec = (over: Partial<RolloutRecord>): RolloutRecord => ({
  run_id: 'r', step: 1, policy_version: 0, prompt_id: 'p', group_idx: 0, prompt: 'q', example: '{}', completion: 'c',
  token_ids: [1, 2], logprobs: [-1, -1], reward: 1, reward_parts: '{}', advantage: 0.5, status: 'ok', finish_reason: 'stop', ...over,
});
const shaping = { overlong: 'none', maxNewTokens: 8, overlongCache: 4, advantage: 'grpo' } as const;

describe('GRPO batch logic', () => {
  it('shapes rewards: null and non-finite scores are no reward; the soft penalty applies near the length limit', () => {
    expect(shapedReward(null, 3, shaping)).toBeNull();
    expect(shapedReward(Number.NaN, 3, shaping)).toBeNull();
    expect(shapedReward(1, 8, shaping)).toBe(1);
    expect(shapedReward(1, 8, { ...shaping, overlong: 'soft' })).toBeLessThan(1);
    expect(shapedReward(1, 2, { ...shaping, overlong: 'soft' })).toBe(1);
  });

  it('scores a group: Float32 advantages that sum to 0, nulls left out, all-equal groups flagged', () => {
    const g = scoreGroup([1, 0, null, 0], [2, 2, 2, 2], shaping);
    expect(g.excluded).toBe(1);
    expect(g.advantages[2]).toBeNull();
    const a = g.advantages.filter((x): x is number => x !== null);
    expect(a.every((x) => x === Math.fround(x))).toBe(true);
    expect(Math.abs(a.reduce((s, x) => s + x, 0))).toBeLessThan(1e-5);
    expect(g.degenerate).toBe(false);
    expect(scoreGroup([1, 1, 1], [2, 2, 2], shaping).degenerate).toBe(true);
  });

  it('keeps the trained groups of a logged step (a dropped group has every advantage null) and summarises them', () => {
    const dropped = [0, 1].map((i) => rec({ prompt_id: 'd', group_idx: i, advantage: null, reward: 0, status: 'wrong' }));
    const trained = [
      rec({ prompt_id: 't', group_idx: 0, reward: 1, advantage: 1, status: 'ok', token_ids: [1, 2, 3, 4] }),
      rec({ prompt_id: 't', group_idx: 1, reward: 0, advantage: -1, status: 'wrong', finish_reason: 'length', token_ids: [1, 2] }),
      rec({ prompt_id: 't', group_idx: 2, reward: null, advantage: null, status: 'timeout', token_ids: [1, 2, 3] }),
    ];
    const kept = trainedRecords([...dropped, ...trained]);
    expect(kept).toEqual(trained);
    const s = batchSummary(kept, 1);
    expect(s).toEqual({ rewardMean: 0.5, rewardStd: 0.5, passRate: 1 / 3, unscored: 1, completionLength: 3, truncated: 1 / 3, signal: 2 / 3, staleness: 0 });
  });
});
