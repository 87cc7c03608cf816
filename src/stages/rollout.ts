/**
 * The RL stage's rollouts: which prompt comes next, the completions sampled for a chunk
 * of prompts, and the log record of a scored completion.
 */
import type { RolloutRecord } from '../data/schemas.js';
import type { RewardResult, RewardSample } from '../reward/types.js';
import { deriveSeed, Rng } from '../util/rng.js';

/** One target-domain example: the prompt the policy sees and the row its reward checks against. */
export interface RLExample {
  readonly id: string;
  readonly prompt: string;
  /** Ground truth and other columns for the reward (e.g. names + solution, answer, test). */
  readonly row: Readonly<Record<string, unknown>>;
}

/** Where prompt number `cursor` of the run comes from: a seeded permutation per epoch. */
export function promptAt(cursor: number, count: number, seed: number, cache = new Map<number, number[]>()): number {
  const epoch = Math.floor(cursor / count);
  let order = cache.get(epoch);
  if (!order) {
    order = new Rng(deriveSeed(seed, epoch)).shuffle([...Array(count).keys()]);
    cache.clear();
    cache.set(epoch, order);
  }
  return order[cursor % count] as number;
}

/** A sampled completion on its way through verification. */
export interface Rollout extends RewardSample {
  readonly cursor: number;
  readonly example: RLExample;
  readonly groupIdx: number;
  readonly version: number;
  readonly promptIds: readonly number[];
  readonly tokens: number[];
  readonly logprobs: number[];
  readonly finishReason: 'stop' | 'length';
}

export type Scored = Rollout & { readonly reward: RewardResult };

/** A chunk of prompts to sample: `n` groups from prompt number `cursor` on. */
export interface ChunkRequest {
  readonly cursor: number;
  readonly n: number;
}

/** The examples, prompts (G copies each) and per-completion seeds of a chunk. */
export function chunkPlan(req: ChunkRequest, examples: readonly RLExample[], groupSize: number, seed: number, encode: (ex: RLExample) => number[], orderCache: Map<number, number[]>) {
  const chunk = Array.from({ length: req.n }, (_, i) => examples[promptAt(req.cursor + i, examples.length, seed, orderCache)] as RLExample);
  const prompts = chunk.flatMap((ex) => Array.from({ length: groupSize }, () => encode(ex)));
  const seeds = chunk.flatMap((_, i) => Array.from({ length: groupSize }, (_, g) => deriveSeed(seed, req.cursor + i, g, 0x5a)));
  return { chunk, prompts, seeds };
}

/** The rollouts of a sampled chunk, in prompt-major order. */
export function chunkRollouts(
  req: ChunkRequest,
  plan: { chunk: readonly RLExample[]; prompts: readonly number[][] },
  gens: readonly { text: string; tokens: number[]; logprobs: number[]; finishReason: 'stop' | 'length' }[],
  groupSize: number,
  version: number,
): Rollout[] {
  return gens.map((g, j) => {
    const ex = plan.chunk[Math.floor(j / groupSize)] as RLExample;
    return {
      id: `${ex.id}#${j % groupSize}`,
      prompt: ex.prompt,
      completion: g.text,
      row: ex.row,
      cursor: req.cursor + Math.floor(j / groupSize),
      example: ex,
      groupIdx: j % groupSize,
      version,
      promptIds: plan.prompts[j] as number[],
      tokens: g.tokens,
      // Rounded as the log stores them, so training from the log is bit-identical.
      logprobs: g.logprobs.map(Math.fround),
      finishReason: g.finishReason,
    };
  });
}

/** The log record of a scored completion, trained at `step` with `advantage` (null: not trained) on `reward`. */
export const rolloutRecord = (runId: string, r: Scored, step: number, advantage: number | null, reward: number | null): RolloutRecord => ({
  run_id: runId,
  step,
  policy_version: r.version,
  prompt_id: r.example.id,
  group_idx: r.groupIdx,
  prompt: r.prompt,
  example: JSON.stringify(r.row),
  completion: r.completion,
  token_ids: r.tokens,
  logprobs: r.logprobs,
  reward,
  reward_parts: JSON.stringify(r.reward.parts),
  advantage,
  status: r.reward.status,
  finish_reason: r.finishReason,
});
