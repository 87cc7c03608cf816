/**
 * The policy-gradient learner: the GRPO loss of `grpo.ts` on tensors, with AdamW.
 *
 * One `update` is μ optimiser steps over one batch of completions. Each step runs the
 * batch in micro-batches (prompt + completion, right-padded), scores the completion
 * tokens under the temperature-scaled policy, and accumulates the gradient of
 *   Σ_tokens w · [−min(ρA, clip(ρ, 1−ε_low, 1+ε_high)A) + β·k3]
 * where w are the aggregation weights of the whole batch (so micro-batching does not
 * change the result) and ρ = exp(logp − logp_behaviour) against the log-probs recorded
 * when the completion was sampled.
 */
import * as tf from '@tensorflow/tfjs';
import type { Transformer } from '../model/transformer.js';
import { aggregationWeights, policyLoss, type PolicyLossConfig } from './grpo.js';
import { AdamW, type AdamWConfig } from './optim.js';

/** One completion to learn from. */
export interface PolicyRow {
  readonly promptIds: readonly number[];
  readonly completionIds: readonly number[];
  /** Behaviour-policy log-probs of `completionIds` (recorded at sampling time). */
  readonly oldLogprobs: readonly number[];
  readonly advantage: number;
  /** False masks the whole completion out of the loss (e.g. a truncated one). */
  readonly trainable?: boolean;
}

export interface LearnerConfig extends AdamWConfig, PolicyLossConfig {
  /** Sampling temperature: log-probs are taken under logits / temperature, as when sampling. */
  readonly temperature: number;
  /** Optimiser steps per batch (μ). */
  readonly mu: number;
  /** Rows per micro-batch (memory, not maths). */
  readonly microBatch: number;
}

/** Diagnostics of one update (means over its μ steps). */
export interface UpdateStats {
  readonly loss: number;
  readonly clipFraction: number;
  readonly kl: number;
  /** Mean token entropy of the policy on the counted tokens. */
  readonly entropy: number;
  readonly gradNorm: number;
  /** Counted completion tokens. */
  readonly tokens: number;
}

interface MicroBatch {
  readonly rows: number[];
  readonly ids: number[][];
  readonly targets: number[][];
  readonly weights: number[][];
  readonly oldLogp: number[][];
  readonly advantage: number[][];
  /** Where each row's completion starts in the target axis. */
  readonly start: number[];
}

/** The completion-token mask of each row. */
const rowMask = (r: PolicyRow): number[] => r.completionIds.map(() => (r.trainable === false ? 0 : 1));

function microBatches(rows: readonly PolicyRow[], weights: readonly (readonly number[])[], size: number, pad: number): MicroBatch[] {
  const out: MicroBatch[] = [];
  for (let s = 0; s < rows.length; s += size) {
    const idx = rows.slice(s, s + size).map((_, i) => s + i);
    const seqs = idx.map((i) => [...(rows[i] as PolicyRow).promptIds, ...(rows[i] as PolicyRow).completionIds]);
    const T = Math.max(...seqs.map((q) => q.length - 1));
    const padTo = (xs: number[], v: number): number[] => [...xs, ...Array<number>(T - xs.length).fill(v)];
    const start = idx.map((i) => (rows[i] as PolicyRow).promptIds.length - 1);
    const place = (k: number, values: readonly number[], fill: number): number[] => {
      const row = Array<number>(T).fill(fill);
      values.forEach((v, j) => (row[(start[k] as number) + j] = v));
      return row;
    };
    out.push({
      rows: idx,
      ids: seqs.map((q) => padTo(q.slice(0, -1), pad)),
      targets: seqs.map((q) => padTo(q.slice(1), pad)),
      weights: idx.map((i, k) => place(k, weights[i] as number[], 0)),
      oldLogp: idx.map((i, k) => place(k, (rows[i] as PolicyRow).oldLogprobs, 0)),
      advantage: idx.map((i) => Array<number>(T).fill((rows[i] as PolicyRow).advantage)),
      start,
    });
  }
  return out;
}

/**
 * Log-probs of the target tokens [B, T] under `model` at `temperature`, and the token
 * entropies [B, T]. Inside a gradient scope the first is differentiable.
 */
function tokenLogprobs(model: Transformer, ids: tf.Tensor2D, targets: tf.Tensor2D, temperature: number): { logp: tf.Tensor2D; entropy: tf.Tensor2D } {
  const { logits } = model.forward({ ids }); // [B, T, V]
  const scaled = temperature > 0 && temperature !== 1 ? tf.div(logits, temperature) : logits; // [B, T, V]
  const all = tf.logSoftmax(scaled); // [B, T, V]
  const logp = tf.sum(tf.mul(all, tf.oneHot(targets, model.config.vocabSize)), -1) as tf.Tensor2D; // [B, T]
  const entropy = tf.neg(tf.sum(tf.mul(tf.exp(all), all), -1)) as tf.Tensor2D; // [B, T]
  return { logp, entropy };
}

/** Reads rows of a [B, T] tensor back out at each row's completion positions. */
function completionValues(values: Float32Array, mb: MicroBatch, rows: readonly PolicyRow[]): number[][] {
  const T = mb.ids[0]?.length ?? 0;
  return mb.rows.map((i, k) => (rows[i] as PolicyRow).completionIds.map((_, j) => values[k * T + (mb.start[k] as number) + j] as number));
}

/**
 * Log-probs of each row's completion tokens under `model` (no gradients): the
 * reference policy's, or a check that sampling-time log-probs match a full forward.
 */
export function completionLogprobs(model: Transformer, rows: readonly PolicyRow[], temperature: number, pad: number, microBatch = 8): number[][] {
  const out: number[][] = [];
  for (const mb of microBatches(rows, rows.map(rowMask), microBatch, pad)) {
    const shape: [number, number] = [mb.ids.length, mb.ids[0]?.length ?? 0];
    const ids = tf.tensor2d(mb.ids, shape, 'int32');
    const targets = tf.tensor2d(mb.targets, shape, 'int32');
    const logp = tf.tidy(() => tokenLogprobs(model, ids, targets, temperature).logp);
    out.push(...completionValues(logp.dataSync() as Float32Array, mb, rows));
    [ids, targets, logp].forEach((t) => t.dispose());
  }
  return out;
}

/** Owns the optimiser of a policy and applies GRPO updates. */
export class PolicyLearner {
  readonly optimizer: AdamW;

  constructor(
    readonly model: Transformer,
    readonly config: LearnerConfig,
    /** A frozen reference policy, needed only when β > 0. */
    readonly reference: Transformer | null,
    private readonly pad: number,
  ) {
    if (config.beta > 0 && !reference) throw new Error('grpo: beta > 0 needs a reference model');
    for (const k of ['mu', 'microBatch'] as const) if (!Number.isInteger(config[k]) || config[k] < 1) throw new Error(`grpo: ${k} must be a positive integer, got ${config[k]}`);
    this.optimizer = new AdamW(config, model.weights);
  }

  /** μ optimiser steps on `rows` at learning rate `lr`. Rows with no counted token are skipped. */
  update(rows: readonly PolicyRow[], lr: number): UpdateStats {
    const c = this.config;
    const masks = rows.map(rowMask);
    const weights = aggregationWeights(masks, c.aggregation);
    const batches = microBatches(rows, weights, c.microBatch, this.pad);
    const refLogp = c.beta > 0 ? completionLogprobs(this.reference as Transformer, rows, c.temperature, this.pad, c.microBatch) : null;
    const vars = this.model.variables();
    const sums = { loss: 0, clipFraction: 0, kl: 0, entropy: 0, gradNorm: 0 };
    let tokens = 0;
    for (let epoch = 0; epoch < c.mu; epoch++) {
      let grads: Record<string, tf.Tensor> | null = null;
      const newLogp: number[][] = rows.map(() => []);
      let entropySum = 0;
      let lossTf = 0;
      for (const mb of batches) {
        const shape: [number, number] = [mb.ids.length, mb.ids[0]?.length ?? 0];
        const t = {
          ids: tf.tensor2d(mb.ids, shape, 'int32'),
          targets: tf.tensor2d(mb.targets, shape, 'int32'),
          weights: tf.tensor2d(mb.weights, shape),
          oldLogp: tf.tensor2d(mb.oldLogp, shape),
          advantage: tf.tensor2d(mb.advantage, shape),
          refLogp: refLogp ? tf.tensor2d(mb.rows.map((i, k) => {
            const row = Array<number>(shape[1]).fill(0);
            (refLogp[i] as number[]).forEach((v, j) => (row[(mb.start[k] as number) + j] = v));
            return row;
          }), shape) : null,
        };
        let kept: { logp: tf.Tensor2D; entropy: tf.Scalar } | null = null;
        const { value, grads: g } = tf.variableGrads(() => {
          const { logp, entropy } = tokenLogprobs(this.model, t.ids, t.targets, c.temperature); // [B, T] each
          const counted = tf.cast(tf.greater(t.weights, 0), 'float32'); // [B, T]
          kept = { logp: tf.keep(logp), entropy: tf.keep(tf.sum(tf.mul(entropy, counted))) };
          const ratio = tf.exp(tf.sub(logp, t.oldLogp)); // [B, T]
          const unclipped = tf.mul(ratio, t.advantage); // [B, T]
          const clipped = tf.mul(tf.clipByValue(ratio, 1 - c.clipLow, 1 + c.clipHigh), t.advantage); // [B, T]
          let perToken = tf.neg(tf.minimum(unclipped, clipped)); // [B, T]
          if (t.refLogp && c.beta > 0) {
            const d = tf.sub(t.refLogp, logp); // [B, T]
            perToken = tf.add(perToken, tf.mul(tf.sub(tf.sub(tf.exp(d), d), 1), c.beta)); // [B, T]
          }
          return tf.sum(tf.mul(perToken, t.weights)) as tf.Scalar;
        }, vars);
        const k = kept as unknown as { logp: tf.Tensor2D; entropy: tf.Scalar };
        completionValues(k.logp.dataSync() as Float32Array, mb, rows).forEach((v, j) => (newLogp[mb.rows[j] as number] = v));
        entropySum += k.entropy.dataSync()[0] as number;
        lossTf += value.dataSync()[0] as number;
        [value, k.logp, k.entropy, ...Object.values(t).filter((x): x is tf.Tensor2D => x !== null)].forEach((x) => x.dispose());
        if (grads === null) grads = g;
        else {
          const acc: Record<string, tf.Tensor> = grads;
          for (const [name, v] of Object.entries(g)) {
            const sum = tf.add(acc[name] as tf.Tensor, v);
            (acc[name] as tf.Tensor).dispose();
            v.dispose();
            acc[name] = sum;
          }
        }
      }
      // Clip fraction and KL on the host, by the pure function the tests check.
      const value = policyLoss(
        rows.map((r, i) => ({ logp: newLogp[i] as number[], oldLogp: r.oldLogprobs, advantage: r.advantage, mask: masks[i] as number[], ...(refLogp ? { refLogp: refLogp[i] as number[] } : {}) })),
        c,
      );
      tokens = value.tokens;
      const gradNorm = grads && value.tokens > 0 ? this.optimizer.apply(grads, lr) : 0;
      Object.values(grads ?? {}).forEach((x) => x.dispose());
      if (!Number.isFinite(lossTf) || !Number.isFinite(gradNorm)) {
        throw new Error(`grpo: the loss (${lossTf}) or gradient norm (${gradNorm}) is not finite; lower the learning rate or check the rewards`);
      }
      sums.loss += lossTf;
      sums.clipFraction += value.clipFraction;
      sums.kl += value.kl;
      sums.entropy += value.tokens ? entropySum / value.tokens : 0;
      sums.gradNorm += gradNorm;
    }
    return {
      loss: sums.loss / c.mu,
      clipFraction: sums.clipFraction / c.mu,
      kl: sums.kl / c.mu,
      entropy: sums.entropy / c.mu,
      gradNorm: sums.gradNorm / c.mu,
      tokens,
    };
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}
