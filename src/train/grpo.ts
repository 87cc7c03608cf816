/**
 * GRPO's math, as pure functions over plain arrays: group advantages (GRPO, Dr. GRPO,
 * RLOO), the PPO-clip token loss with separate low and high clip ranges (DAPO's
 * clip-higher), the k3 KL estimator, loss aggregation (token-mean or sequence-mean) and
 * the soft overlong penalty. The TensorFlow.js learner (`policy.ts`) computes the same
 * loss on tensors; a test checks the two agree.
 *
 * References: DeepSeekMath (GRPO), "Understanding R1-Zero-Like Training" (Dr. GRPO),
 * Ahmadian et al. 2024 (RLOO), DAPO (clip-higher, dynamic sampling, overlong shaping),
 * Schulman's "Approximating KL Divergence" (k3).
 */

/** How a group's rewards become advantages. */
export type AdvantageKind = 'grpo' | 'dr-grpo' | 'rloo';
export const ADVANTAGE_KINDS: readonly AdvantageKind[] = ['grpo', 'dr-grpo', 'rloo'];

/** How token losses are averaged. */
export type Aggregation = 'token-mean' | 'sequence-mean';
export const AGGREGATIONS: readonly Aggregation[] = ['token-mean', 'sequence-mean'];

/** Advantages of one group. */
export interface GroupAdvantages {
  /** One per completion; null where the reward was null or not finite (excluded from the group). */
  readonly advantages: (number | null)[];
  /** Completions left out because their reward was null/NaN/infinite. */
  readonly excluded: number;
  /** True when the group carries no learning signal: fewer than two scored completions, or all rewards equal. */
  readonly degenerate: boolean;
}

/**
 * Advantages for one group of completions of the same prompt.
 * - `grpo`: (r − mean) / (std + eps), std with Bessel's correction (as TRL).
 * - `dr-grpo`: r − mean (no std scaling; Dr. GRPO, the paper's choice).
 * - `rloo`: r − mean of the others = n/(n−1) · (r − mean).
 * Null or non-finite rewards are excluded from the statistics and get a null advantage.
 * A group with fewer than two scored completions, or with all rewards equal, gets zeros.
 */
export function groupAdvantages(rewards: readonly (number | null)[], kind: AdvantageKind, eps = 1e-4): GroupAdvantages {
  const valid = rewards.filter((r): r is number => r !== null && Number.isFinite(r));
  const excluded = rewards.length - valid.length;
  const n = valid.length;
  const mean = n > 0 ? valid.reduce((a, b) => a + b, 0) / n : 0;
  const allEqual = valid.every((r) => r === valid[0]);
  const degenerate = n < 2 || allEqual;
  const advantages = rewards.map((r) => {
    if (r === null || !Number.isFinite(r)) return null;
    if (degenerate) return 0;
    const centred = r - mean;
    if (kind === 'dr-grpo') return centred;
    if (kind === 'rloo') return (n / (n - 1)) * centred;
    const variance = valid.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1);
    return centred / (Math.sqrt(variance) + eps);
  });
  return { advantages, excluded, degenerate };
}

/**
 * DAPO's soft overlong punishment for a completion of `length` tokens with a budget of
 * `maxLength`: 0 up to `maxLength − cache`, then falling linearly to −1 at `maxLength`,
 * and −1 beyond.
 */
export function overlongPenalty(length: number, maxLength: number, cache: number): number {
  if (cache <= 0) return length > maxLength ? -1 : 0;
  const free = maxLength - cache;
  if (length <= free) return 0;
  if (length <= maxLength) return (free - length) / cache;
  return -1;
}

/** The clip and KL settings of the policy loss. */
export interface PolicyLossConfig {
  /** Lower clip range ε_low: the ratio is kept ≥ 1 − ε_low for negative advantages. */
  readonly clipLow: number;
  /** Upper clip range ε_high: the ratio is kept ≤ 1 + ε_high for positive advantages. */
  readonly clipHigh: number;
  /** KL coefficient β against the reference policy; 0 disables (and no reference is needed). */
  readonly beta: number;
  readonly aggregation: Aggregation;
}

/** One completion's tokens, as the loss sees them. */
export interface LossRow {
  /** Current-policy log-probs of the completion tokens. */
  readonly logp: readonly number[];
  /** Behaviour-policy (sampling-time) log-probs. */
  readonly oldLogp: readonly number[];
  /** Reference-policy log-probs (only when β > 0). */
  readonly refLogp?: readonly number[];
  readonly advantage: number;
  /** 1 for tokens the loss counts, 0 for masked ones (e.g. a truncated completion). */
  readonly mask: readonly number[];
}

/**
 * Per-token weights that turn a sum of token losses into the chosen mean, over a whole
 * batch: `token-mean` gives every counted token 1/(all counted tokens); `sequence-mean`
 * gives each token 1/(its row's counted tokens · rows with any counted token).
 * Micro-batches of one step use weights computed over the whole step, so accumulating
 * their gradients gives exactly the full-batch gradient.
 */
export function aggregationWeights(masks: readonly (readonly number[])[], aggregation: Aggregation): number[][] {
  const perRow = masks.map((m) => m.reduce((a, b) => a + b, 0));
  const total = perRow.reduce((a, b) => a + b, 0);
  const rows = perRow.filter((n) => n > 0).length;
  return masks.map((m, i) =>
    m.map((x) => {
      if (x === 0) return 0;
      return aggregation === 'token-mean' ? 1 / total : 1 / ((perRow[i] as number) * rows);
    }),
  );
}

/** The k3 estimator of KL(π‖π_ref) for one token: exp(ref − logp) − (ref − logp) − 1 (≥ 0, unbiased). */
export const k3 = (logp: number, refLogp: number): number => Math.exp(refLogp - logp) - (refLogp - logp) - 1;

/** Loss and diagnostics of a batch. */
export interface PolicyLossValue {
  readonly loss: number;
  /** Share of counted tokens whose ratio was clipped (below 1−ε_low with A<0, or above 1+ε_high with A>0). */
  readonly clipFraction: number;
  /** Mean k3 KL over counted tokens (0 without a reference). */
  readonly kl: number;
  readonly tokens: number;
}

/**
 * The PPO-clip loss: per token, −min(ρ·A, clip(ρ, 1−ε_low, 1+ε_high)·A) + β·k3, with
 * ρ = exp(logp − oldLogp), aggregated as configured.
 */
export function policyLoss(rows: readonly LossRow[], config: PolicyLossConfig): PolicyLossValue {
  const weights = aggregationWeights(rows.map((r) => r.mask), config.aggregation);
  let loss = 0;
  let clipped = 0;
  let kl = 0;
  let tokens = 0;
  rows.forEach((row, i) => {
    const w = weights[i] as number[];
    row.logp.forEach((lp, t) => {
      if (row.mask[t] === 0) return;
      const ratio = Math.exp(lp - (row.oldLogp[t] as number));
      const a = row.advantage;
      const bounded = Math.min(Math.max(ratio, 1 - config.clipLow), 1 + config.clipHigh);
      let l = -Math.min(ratio * a, bounded * a);
      if ((ratio < 1 - config.clipLow && a < 0) || (ratio > 1 + config.clipHigh && a > 0)) clipped++;
      if (config.beta > 0) {
        const d = k3(lp, (row.refLogp as readonly number[])[t] as number);
        l += config.beta * d;
        kl += d;
      }
      loss += (w[t] as number) * l;
      tokens++;
    });
  });
  return { loss, clipFraction: tokens ? clipped / tokens : 0, kl: tokens ? kl / tokens : 0, tokens };
}
