/**
 * The structure of a logged RLVR step (the rollouts schema), shared by resume and
 * replay: where its groups are, their advantages from rewards, and the rows a policy
 * learner trains on.
 */
import type { RolloutRecord } from '../data/schemas.js';
import type { Tokenizer } from '../model/tokenizer.js';
import { groupAdvantages, type AdvantageKind } from './grpo.js';
import type { PolicyRow } from './policy.js';

/** Splits a step's rows into groups: a group starts at group_idx 0 or where the prompt changes. */
export function groupsOf(rows: readonly RolloutRecord[]): RolloutRecord[][] {
  const out: RolloutRecord[][] = [];
  for (const r of rows) {
    const last = out[out.length - 1];
    if (!last || r.group_idx === 0 || (last[0] as RolloutRecord).prompt_id !== r.prompt_id) out.push([r]);
    else last.push(r);
  }
  return out;
}

/** Recomputes the advantages of a step's rows from their rewards (Float32, as logged). */
export function recomputeAdvantages(rows: readonly RolloutRecord[], kind: AdvantageKind, dynamicSampling: boolean): RolloutRecord[] {
  return groupsOf(rows).flatMap((g) => {
    const adv = groupAdvantages(g.map((r) => r.reward), kind);
    return g.map((r, i) => {
      const a = adv.advantages[i] ?? null;
      return { ...r, advantage: a === null || (dynamicSampling && adv.degenerate) ? null : Math.fround(a) };
    });
  });
}

/** Policy rows of one logged step: rows with a null advantage (or no tokens) are skipped; a truncated completion is masked when `overlong` is 'mask'. */
export function policyRowsFromLog(records: readonly RolloutRecord[], tokenizer: Tokenizer, overlong: 'none' | 'mask' | 'soft', promptIds = new Map<string, number[]>()): PolicyRow[] {
  const out: PolicyRow[] = [];
  for (const r of records) {
    if (r.advantage === null || r.token_ids.length === 0) continue;
    let ids = promptIds.get(r.prompt);
    if (!ids) {
      ids = tokenizer.encode(r.prompt);
      promptIds.set(r.prompt, ids);
    }
    out.push({ promptIds: ids, completionIds: r.token_ids, oldLogprobs: r.logprobs, advantage: r.advantage, trainable: !(overlong === 'mask' && r.finish_reason === 'length') });
  }
  return out;
}
