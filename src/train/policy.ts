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
import { targetLogProbs } from '../model/fused.js';
import { rowLogitsBytes } from '../model/memory.js';
import type { KVCache, Transformer } from '../model/transformer.js';
import { aggregationWeights, policyLoss, type PolicyLossConfig } from './grpo.js';
import { accumulateGrads, AdamW, type AdamWConfig } from './optim.js';

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
  /** Rows per micro-batch (memory, not maths); fewer when the logits would not fit (`fitMicroBatch`). */
  readonly microBatch: number;
}

/** Bytes the logits of one micro-batch may take, with their log-softmax and gradients (~4 copies). */
export const LOGITS_BUDGET = 512 * 2 ** 20;

/**
 * The micro-batch to use: `requested`, or fewer rows when rows × length × vocabulary
 * float32 logits (about 4 copies while training) would pass LOGITS_BUDGET, at least 1.
 * A 0.5B model's 151,936-token vocabulary at 128 tokens takes ~300 MB a row this way; two
 * rows beside its 2 GB of weights aborted the 4 GiB wasm heap (bench big).
 */
export function fitMicroBatch(rows: readonly PolicyRow[], vocab: number, requested: number): number {
  const longest = rows.reduce((n, r) => Math.max(n, r.promptIds.length + r.completionIds.length), 1);
  return Math.max(1, Math.min(requested, Math.floor(LOGITS_BUDGET / rowLogitsBytes(longest, vocab))));
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

/**
 * Rows that share one prompt (a GRPO group, or part of one), as [n, C] arrays over
 * their completion tokens: the prompt runs once and its cache is shared by the rows.
 */
export interface MicroBatch {
  readonly rows: number[];
  readonly prompt: readonly number[];
  /** Completion inputs c[0..C-2] (the prompt's last position predicts c[0]). */
  readonly inputs: number[][];
  readonly targets: number[][];
  readonly weights: number[][];
  readonly oldLogp: number[][];
  readonly advantage: number[][];
}

/** The completion-token mask of each row. */
const rowMask = (r: PolicyRow): number[] => r.completionIds.map(() => (r.trainable === false ? 0 : 1));

export function microBatches(rows: readonly PolicyRow[], weights: readonly (readonly number[])[], size: number, pad: number, include: (row: number) => boolean = () => true): MicroBatch[] {
  // Rows with the same prompt (wherever they are in the batch), cut at `size` rows.
  const byPrompt = new Map<string, number[]>();
  rows.forEach((r, i) => {
    if (r.completionIds.length === 0 || !include(i)) return;
    const key = r.promptIds.join(',');
    const list = byPrompt.get(key);
    if (list) list.push(i);
    else byPrompt.set(key, [i]);
  });
  const runs: number[][] = [];
  for (const list of byPrompt.values()) for (let s = 0; s < list.length; s += size) runs.push(list.slice(s, s + size));
  return runs.map((idx) => {
    const C = Math.max(...idx.map((i) => (rows[i] as PolicyRow).completionIds.length));
    const padTo = (xs: readonly number[], n: number, v: number): number[] => [...xs, ...Array<number>(n - xs.length).fill(v)];
    const r = (i: number): PolicyRow => rows[i] as PolicyRow;
    return {
      rows: idx,
      prompt: r(idx[0] as number).promptIds,
      inputs: idx.map((i) => padTo(r(i).completionIds.slice(0, -1), C - 1, pad)),
      targets: idx.map((i) => padTo(r(i).completionIds, C, pad)),
      weights: idx.map((i) => padTo(weights[i] as number[], C, 0)),
      oldLogp: idx.map((i) => padTo(r(i).oldLogprobs, C, 0)),
      advantage: idx.map((i) => Array<number>(C).fill(r(i).advantage)),
    };
  });
}

/**
 * Log-probs of the completion tokens [n, C] under `model` at `temperature`, and their
 * entropies [n, C]: the prompt runs once, its key/value cache is tiled to the n rows,
 * and the completions run on top. Inside a gradient scope the log-probs are
 * differentiable (through the shared prompt too). Tensors the model keeps (caches) are
 * added to `kept`; the caller disposes them once gradients are done.
 */
export function tokenLogprobs(model: Transformer, mb: MicroBatch, targets: tf.Tensor2D, temperature: number, kept: tf.Tensor[]): { logp: tf.Tensor2D; entropy: tf.Tensor2D } {
  const n = mb.inputs.length;
  const L = mb.prompt.length;
  const V = model.config.vocabSize;
  const promptIds = tf.tensor2d([[...mb.prompt]], [1, L], 'int32');
  const p = model.forward({ ids: promptIds }, true); // logits [1, L, V]
  const cache = p.cache as KVCache;
  kept.push(...cache.keys, ...cache.values);
  let logits = tf.tile(p.logits.slice([0, L - 1, 0], [1, 1, V]), [n, 1, 1]) as tf.Tensor3D; // [n, 1, V]
  const C1 = mb.inputs[0]?.length ?? 0;
  if (C1 > 0) {
    const tiled: KVCache = { keys: cache.keys.map((k) => tf.tile(k, [n, 1, 1, 1]) as tf.Tensor4D), values: cache.values.map((v) => tf.tile(v, [n, 1, 1, 1]) as tf.Tensor4D), length: cache.length }; // [n, K, L, E]
    const c = model.forward({ ids: tf.tensor2d(mb.inputs, [n, C1], 'int32'), cache: tiled }); // logits [n, C-1, V]
    kept.push(...(c.cache as KVCache).keys, ...(c.cache as KVCache).values);
    logits = tf.concat([logits, c.logits], 1); // [n, C, V]
  }
  const scaled = temperature > 0 && temperature !== 1 ? tf.div(logits, temperature) : logits; // [n, C, V]
  const logp = targetLogProbs(scaled, targets) as tf.Tensor2D; // [n, C]; one fused kernel backward on wasm
  const all = tf.logSoftmax(scaled); // [n, C, V], for the entropy (a metric: not differentiated)
  const entropy = tf.neg(tf.sum(tf.mul(tf.exp(all), all), -1)) as tf.Tensor2D; // [n, C]
  return { logp, entropy };
}

/** Reads each row's completion values out of a [n, C] tensor. */
function completionValues(values: Float32Array, mb: MicroBatch, rows: readonly PolicyRow[]): number[][] {
  const C = mb.targets[0]?.length ?? 0;
  return mb.rows.map((i, k) => (rows[i] as PolicyRow).completionIds.map((_, j) => values[k * C + j] as number));
}

/**
 * Log-probs of each row's completion tokens under `model` (no gradients): the
 * reference policy's, or a check that sampling-time log-probs match a full forward.
 */
export function completionLogprobs(model: Transformer, rows: readonly PolicyRow[], temperature: number, pad: number, microBatch = 8): number[][] {
  const out: number[][] = rows.map(() => []);
  for (const mb of microBatches(rows, rows.map(rowMask), microBatch, pad)) {
    const targets = tf.tensor2d(mb.targets, [mb.targets.length, mb.targets[0]?.length ?? 0], 'int32');
    const kept: tf.Tensor[] = [];
    const logp = tf.tidy(() => tokenLogprobs(model, mb, targets, temperature, kept).logp);
    completionValues(logp.dataSync() as Float32Array, mb, rows).forEach((v, k) => (out[mb.rows[k] as number] = v));
    [targets, logp, ...kept].forEach((t) => t.dispose());
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
    this.optimizer = new AdamW(config, model.trainable());
  }

  /**
   * μ optimiser steps on `rows` at learning rate `lr`. The aggregation counts every
   * row's tokens, but without KL a row with advantage 0 (a degenerate group) adds
   * nothing to the loss or its gradient, so it is not run at all; nor is a row with no
   * counted token. If no row is left, AdamW still steps on a zero gradient (its
   * momentum moves on, as in a framework that ran the zero rows).
   */
  update(rows: readonly PolicyRow[], lr: number): UpdateStats {
    const c = this.config;
    const masks = rows.map(rowMask);
    const weights = aggregationWeights(masks, c.aggregation);
    const active = rows.map((r, i) => (c.beta > 0 || r.advantage !== 0) && (masks[i] as number[]).some((m) => m > 0));
    const size = fitMicroBatch(rows, this.model.config.vocabSize, c.microBatch);
    const batches = microBatches(rows, weights, size, this.pad, (i) => active[i] === true);
    const refLogp = c.beta > 0 ? completionLogprobs(this.reference as Transformer, rows, c.temperature, this.pad, size) : null;
    const vars = this.model.variables();
    const sums = { loss: 0, clipFraction: 0, kl: 0, entropy: 0, gradNorm: 0 };
    let tokens = 0;
    for (let epoch = 0; epoch < c.mu; epoch++) {
      let grads: Record<string, tf.Tensor> | null = null;
      const newLogp: number[][] = rows.map(() => []);
      let entropySum = 0;
      let lossTf = 0;
      for (const mb of batches) {
        const shape: [number, number] = [mb.targets.length, mb.targets[0]?.length ?? 0];
        const t = {
          targets: tf.tensor2d(mb.targets, shape, 'int32'),
          weights: tf.tensor2d(mb.weights, shape),
          oldLogp: tf.tensor2d(mb.oldLogp, shape),
          advantage: tf.tensor2d(mb.advantage, shape),
          refLogp: refLogp ? tf.tensor2d(mb.rows.map((i) => [...(refLogp[i] as number[]), ...Array<number>(shape[1] - (refLogp[i] as number[]).length).fill(0)]), shape) : null,
        };
        const cacheTensors: tf.Tensor[] = [];
        let kept: { logp: tf.Tensor2D; entropy: tf.Scalar } | null = null;
        const { value, grads: g } = tf.variableGrads(() => {
          const { logp, entropy } = tokenLogprobs(this.model, mb, t.targets, c.temperature, cacheTensors); // [n, C] each
          const counted = tf.cast(tf.greater(t.weights, 0), 'float32'); // [n, C]
          kept = { logp: tf.keep(logp), entropy: tf.keep(tf.sum(tf.mul(entropy, counted))) };
          const ratio = tf.exp(tf.sub(logp, t.oldLogp)); // [n, C]
          const unclipped = tf.mul(ratio, t.advantage); // [n, C]
          const clipped = tf.mul(tf.clipByValue(ratio, 1 - c.clipLow, 1 + c.clipHigh), t.advantage); // [n, C]
          let perToken = tf.neg(tf.minimum(unclipped, clipped)); // [n, C]
          if (t.refLogp && c.beta > 0) {
            const d = tf.sub(t.refLogp, logp); // [n, C]
            perToken = tf.add(perToken, tf.mul(tf.sub(tf.sub(tf.exp(d), d), 1), c.beta)); // [n, C]
          }
          return tf.sum(tf.mul(perToken, t.weights)) as tf.Scalar;
        }, vars);
        cacheTensors.forEach((x) => x.dispose());
        const k = kept as unknown as { logp: tf.Tensor2D; entropy: tf.Scalar };
        completionValues(k.logp.dataSync() as Float32Array, mb, rows).forEach((v, j) => (newLogp[mb.rows[j] as number] = v));
        entropySum += k.entropy.dataSync()[0] as number;
        lossTf += value.dataSync()[0] as number;
        [value, k.logp, k.entropy, ...Object.values(t).filter((x): x is tf.Tensor2D => x !== null)].forEach((x) => x.dispose());
        grads = accumulateGrads(grads, g);
      }
      // Clip fraction and KL on the host, by the pure function the tests check (rows not
      // run contribute nothing: their ratio is taken as 1).
      const value = policyLoss(
        rows.map((r, i) => ({ logp: active[i] ? (newLogp[i] as number[]) : r.oldLogprobs, oldLogp: r.oldLogprobs, advantage: r.advantage, mask: masks[i] as number[], ...(refLogp ? { refLogp: refLogp[i] as number[] } : {}) })),
        c,
      );
      tokens = value.tokens;
      const ranTokens = masks.reduce((n, m, i) => n + (active[i] ? m.reduce((a, b) => a + b, 0) : 0), 0);
      grads ??= Object.fromEntries(vars.map((v) => [v.name, tf.zerosLike(v)]));
      const gradNorm = value.tokens > 0 ? this.optimizer.apply(grads, lr) : 0;
      Object.values(grads ?? {}).forEach((x) => x.dispose());
      if (!Number.isFinite(lossTf) || !Number.isFinite(gradNorm)) {
        throw new Error(`grpo: the loss (${lossTf}) or gradient norm (${gradNorm}) is not finite; lower the learning rate or check the rewards`);
      }
      sums.loss += lossTf;
      sums.clipFraction += value.clipFraction;
      sums.kl += value.kl;
      sums.entropy += ranTokens ? entropySum / ranTokens : Number.NaN;
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
