/**
 * AdamW with global-norm gradient clipping and a warmup + cosine/constant schedule.
 * State (first and second moments, step) is plain named tensors, so a checkpoint can
 * save it and a resumed run continues exactly.
 */
import * as tf from '@tensorflow/tfjs';
import { ADAMW, fusedAdamW, sumOfSquares, type AdamWAttrs } from '../model/fused.js';

export interface AdamWConfig {
  /** Peak learning rate. */
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  /** Decoupled weight decay; not applied to norms and biases. */
  readonly weightDecay: number;
  /** Clip gradients to this global L2 norm; 0 disables. */
  readonly clipNorm: number;
  /**
   * Decoupled decay toward the weights training started from (L2-SP, Li et al. 2018):
   * each step moves every trainable weight back by `lr · anchorDecay` of its distance
   * from its starting value. 0 disables. Keeps what a pretrained model did on inputs
   * the new data never shows (results/LAB.md, probe 25).
   */
  readonly anchorDecay: number;
}

export const DEFAULT_ADAMW: AdamWConfig = { lr: 1e-3, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, clipNorm: 1, anchorDecay: 0 };

/**
 * The learning rate at `step` (0-based): linear warmup to `peak` over `warmup` steps,
 * then constant or cosine decay to `peak * minRatio` at `total`.
 */
export function learningRate(step: number, peak: number, warmup: number, total: number, kind: 'cosine' | 'constant', minRatio = 0.1): number {
  if (warmup > 0 && step < warmup) return (peak * (step + 1)) / warmup;
  if (kind === 'constant') return peak;
  const progress = Math.min(1, (step - warmup) / Math.max(1, total - warmup));
  const ratio = minRatio + (1 - minRatio) * 0.5 * (1 + Math.cos(Math.PI * progress));
  if (!(ratio >= minRatio - 1e-12 && ratio <= 1 + 1e-12)) throw new Error(`internal: lr ratio ${ratio} out of [${minRatio}, 1]`);
  return peak * ratio;
}

/** Adds micro-batch gradients `g` into `acc` (null: the first), disposing what it replaces; returns the sum. */
export function accumulateGrads(acc: Record<string, tf.Tensor> | null, g: Record<string, tf.Tensor>): Record<string, tf.Tensor> {
  if (acc === null) return g;
  for (const [name, v] of Object.entries(g)) {
    const sum = tf.add(acc[name] as tf.Tensor, v);
    (acc[name] as tf.Tensor).dispose();
    v.dispose();
    acc[name] = sum;
  }
  return acc;
}

/**
 * AdamW over a fixed set of named variables. With `anchorDecay`, the variables' values
 * at construction are the anchor; it is part of `state()`, so a resumed run decays
 * toward the same weights.
 */
export class AdamW {
  step = 0;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  private readonly anchor = new Map<string, tf.Variable>();

  constructor(
    readonly config: AdamWConfig,
    private readonly params: ReadonlyMap<string, tf.Variable>,
  ) {
    if (config.anchorDecay < 0 || config.lr * config.anchorDecay > 1) {
      throw new Error(`anchor decay ${config.anchorDecay} at learning rate ${config.lr}: each step would move a weight ${config.lr * config.anchorDecay} of its distance back (past the anchor when above 1); use a value in [0, ${1 / config.lr}]`);
    }
    for (const [name, p] of params) {
      // tf.variable shares the initial tensor's data; tidy disposes the temporary.
      this.m.set(name, tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
      this.v.set(name, tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
      if (config.anchorDecay > 0) this.anchor.set(name, tf.tidy(() => tf.variable(p.clone(), false)));
    }
  }

  /**
   * Applies one update with learning rate `lr`; returns the global gradient norm before
   * clipping. `grads` (keyed by variable name, as tf.variableGrads returns them) are
   * disposed by the caller.
   */
  apply(grads: Readonly<Record<string, tf.Tensor>>, lr: number): number {
    const { beta1, beta2, eps, weightDecay, clipNorm } = this.config;
    // Read outside tf.tidy: on wasm a dataSync inside a tidy scope is much slower.
    const normT = tf.tidy(() => tf.sqrt(sumOfSquares(Object.values(grads))));
    const norm = normT.dataSync()[0] as number;
    normT.dispose();
    if (!Number.isFinite(norm)) return norm;
    const scale = clipNorm > 0 && norm > clipNorm ? clipNorm / norm : 1;
    this.step++;
    const bc1 = 1 - beta1 ** this.step;
    const bc2 = 1 - beta2 ** this.step;
    tf.tidy(() => {
      for (const [name, p] of this.params) {
        // tf.variableGrads keys gradients by the variables' own (generated) names.
        const g0 = grads[p.name] ?? grads[name];
        if (!g0) continue;
        const m = this.m.get(name) as tf.Variable;
        const v = this.v.get(name) as tf.Variable;
        const decay = weightDecay > 0 && p.shape.length > 1 ? weightDecay : 0;
        if (fusedAdamW(p.size)) {
          // One SIMD kernel for the whole update (wasm); the same arithmetic as below.
          const attrs: AdamWAttrs = { lr, beta1, beta2, eps, decay, bc1, bc2, scale };
          const [p1, m1, v1] = tf.engine().runKernel(ADAMW, { param: p, grad: g0, m, v }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
          m.assign(m1 as tf.Tensor);
          v.assign(v1 as tf.Tensor);
          p.assign(p1 as tf.Tensor);
          this.pullToAnchor(name, p, lr);
          continue;
        }
        const g = scale === 1 ? g0 : tf.mul(g0, scale);
        m.assign(tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1)));
        v.assign(tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2)));
        const update = tf.div(tf.div(m, bc1), tf.add(tf.sqrt(tf.div(v, bc2)), eps));
        p.assign(tf.sub(p, tf.mul(decay > 0 ? tf.add(update, tf.mul(p, decay)) : update, lr)));
        this.pullToAnchor(name, p, lr);
      }
    });
    return norm;
  }

  /** p -= lr · anchorDecay · (p − anchor), after the AdamW update (inside apply's tidy). */
  private pullToAnchor(name: string, p: tf.Variable, lr: number): void {
    const a = this.anchor.get(name);
    if (a) p.assign(tf.sub(p, tf.mul(tf.sub(p, a), lr * this.config.anchorDecay)));
  }

  /** The moments, as `m/NAME` and `v/NAME`, and with `anchorDecay` the anchor as `anchor/NAME`. */
  state(): Map<string, tf.Tensor> {
    const out = new Map<string, tf.Tensor>();
    for (const [prefix, slots] of this.slots()) for (const [name, t] of slots) out.set(`${prefix}/${name}`, t);
    return out;
  }

  private slots(): [string, Map<string, tf.Variable>][] {
    const out: [string, Map<string, tf.Variable>][] = [['m', this.m], ['v', this.v]];
    if (this.anchor.size > 0) out.push(['anchor', this.anchor]);
    return out;
  }

  /** Restores the state saved by `state()`; names and shapes must match. */
  load(state: ReadonlyMap<string, { shape: readonly number[]; data: Float32Array }>, step: number): void {
    const savedAnchor = [...state.keys()].some((k) => k.startsWith('anchor/'));
    if (this.anchor.size > 0 && !savedAnchor) {
      throw new Error('optimizer state: this run decays toward its starting weights (anchor decay), but the saved state has no anchor: it was saved by a run without anchor decay; resume with the same settings');
    }
    if (this.anchor.size === 0 && savedAnchor) {
      throw new Error('optimizer state: the saved run decayed toward its starting weights (anchor decay), and this one does not; resume with the same --anchor-decay');
    }
    for (const [prefix, slots] of this.slots()) {
      for (const [name, slot] of slots) {
        const s = state.get(`${prefix}/${name}`);
        if (!s) throw new Error(`optimizer state: '${prefix}/${name}' is missing`);
        if (s.shape.join(',') !== slot.shape.join(',')) throw new Error(`optimizer state: '${prefix}/${name}' has shape [${s.shape.join(', ')}], expected [${slot.shape.join(', ')}]`);
        tf.tidy(() => slot.assign(tf.tensor(s.data, [...s.shape], 'float32')));
      }
    }
    this.step = step;
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values(), ...this.anchor.values()]) t.dispose();
  }
}
