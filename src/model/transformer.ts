/**
 * A decoder-only transformer in the Qwen2 layout: token embedding → N × [RMSNorm →
 * attention with rotary positions (grouped-query, q/k/v biases) → residual → RMSNorm
 * → SwiGLU MLP → residual] → RMSNorm → LM head (tied to the embedding or not).
 * Options make it Llama/Mistral (no biases) or Qwen3 (no biases; each head's queries
 * and keys RMS-normalised before the rotation; a head size of its own).
 *
 * Weights live in one map under Hugging Face's Qwen2 names
 * (`model.layers.0.self_attn.q_proj.weight`, linear weights as [out, in]), so a
 * Hugging Face checkpoint loads by name and ours save in the same layout.
 *
 * Shapes: B batch, T new tokens, S cached + new tokens, D hidden, H query heads,
 * K key/value heads, E head size, V vocabulary, I MLP width.
 */
import * as tf from '@tensorflow/tfjs';
import { maskedSoftmax, rmsNorm, rotary, swiglu, targetLogProbs } from './fused.js';
import type { PresetName } from './names.js';
import type { LoraAdapter } from './lora.js';
import { ropeInvFreq, type RopeScaling } from './rope.js';

/** Architecture hyperparameters (Hugging Face Qwen2 config names in `toHFConfig`). */
export interface ModelConfig {
  readonly vocabSize: number;
  readonly hiddenSize: number;
  readonly intermediateSize: number;
  readonly numLayers: number;
  readonly numHeads: number;
  /** Key/value heads; fewer than `numHeads` is grouped-query attention. */
  readonly numKvHeads: number;
  readonly maxPositions: number;
  readonly ropeTheta: number;
  readonly rmsNormEps: number;
  readonly tieEmbeddings: boolean;
  /** Qwen2 puts biases on q, k and v. */
  readonly attentionBias: boolean;
  /** Size of one attention head (Hugging Face `head_dim`); default hiddenSize / numHeads. */
  readonly headDim?: number;
  /** Qwen3: RMSNorm over each head's queries and keys (`q_norm`, `k_norm`) before RoPE. */
  readonly qkNorm?: boolean;
  /**
   * How the weights are stored on disk (Hugging Face `torch_dtype`): a checkpoint read
   * in 16 bits is written in 16 bits again. Computation is float32 either way.
   */
  readonly storage?: 'float32' | 'bfloat16' | 'float16';
  /** RoPE frequency scaling (Hugging Face `rope_scaling`); none when absent. */
  readonly ropeScaling?: RopeScaling;
  /**
   * The Hugging Face family `config.json` names: qwen2 (q/k/v biases), llama/mistral
   * (none) or qwen3 (`qkNorm`); when absent, qwen3 if `qkNorm`, else qwen2 if
   * `attentionBias`, else llama.
   */
  readonly family?: ModelFamily;
}

/** The Hugging Face model types this decoder loads and writes. */
export const MODEL_FAMILIES = ['qwen2', 'qwen3', 'llama', 'mistral'] as const;
export type ModelFamily = (typeof MODEL_FAMILIES)[number];

type PresetShape = Omit<ModelConfig, 'vocabSize'>;
const common = { ropeTheta: 10000, rmsNormEps: 1e-6, tieEmbeddings: true, attentionBias: true, maxPositions: 2048 } as const;

/** Named sizes; the vocabulary comes from the tokenizer. */
export const PRESETS: Readonly<Record<PresetName, PresetShape>> = {
  /** ≈1M parameters: trains in minutes on a laptop CPU; tests and the embedded default. */
  tiny: { ...common, hiddenSize: 128, intermediateSize: 384, numLayers: 4, numHeads: 4, numKvHeads: 2 },
  /** ≈10M parameters: enough capacity to learn K&K CoT structure; a few hours on CPU, minutes on a GPU. */
  small: { ...common, hiddenSize: 320, intermediateSize: 960, numLayers: 8, numHeads: 8, numKvHeads: 4 },
  /** ≈50M parameters: the largest worth training without a GPU; where the warmup effect is clearest. */
  base: { ...common, hiddenSize: 512, intermediateSize: 1536, numLayers: 16, numHeads: 8, numKvHeads: 4 },
};

/** Size of one attention head: `headDim`, or hiddenSize / numHeads. */
export const headSizeOf = (c: ModelConfig): number => c.headDim ?? c.hiddenSize / c.numHeads;

/** Validates a config; the errors name the field. */
export function checkConfig(c: ModelConfig): ModelConfig {
  const positive = ['vocabSize', 'hiddenSize', 'intermediateSize', 'numLayers', 'numHeads', 'numKvHeads', 'maxPositions'] as const;
  for (const k of positive) if (!Number.isInteger(c[k]) || c[k] < 1) throw new Error(`model config: ${k} must be a positive integer, got ${c[k]}`);
  if (c.headDim !== undefined && (!Number.isInteger(c.headDim) || c.headDim < 1)) throw new Error(`model config: headDim must be a positive integer, got ${c.headDim}`);
  if (c.headDim === undefined && c.hiddenSize % c.numHeads !== 0) throw new Error(`model config: hiddenSize ${c.hiddenSize} is not divisible by numHeads ${c.numHeads} (or give headDim)`);
  if (c.numHeads % c.numKvHeads !== 0) throw new Error(`model config: numHeads ${c.numHeads} is not a multiple of numKvHeads ${c.numKvHeads}`);
  if (headSizeOf(c) % 2 !== 0) throw new Error(`model config: head size ${headSizeOf(c)} must be even for rotary embeddings`);
  return c;
}

/** The expected shape of every weight, by Hugging Face name. */
export function weightShapes(c: ModelConfig): Map<string, number[]> {
  const E = headSizeOf(c);
  const shapes = new Map<string, number[]>([['model.embed_tokens.weight', [c.vocabSize, c.hiddenSize]]]);
  for (let l = 0; l < c.numLayers; l++) {
    const p = `model.layers.${l}`;
    shapes.set(`${p}.input_layernorm.weight`, [c.hiddenSize]);
    shapes.set(`${p}.self_attn.q_proj.weight`, [c.numHeads * E, c.hiddenSize]);
    shapes.set(`${p}.self_attn.k_proj.weight`, [c.numKvHeads * E, c.hiddenSize]);
    shapes.set(`${p}.self_attn.v_proj.weight`, [c.numKvHeads * E, c.hiddenSize]);
    if (c.attentionBias) {
      shapes.set(`${p}.self_attn.q_proj.bias`, [c.numHeads * E]);
      shapes.set(`${p}.self_attn.k_proj.bias`, [c.numKvHeads * E]);
      shapes.set(`${p}.self_attn.v_proj.bias`, [c.numKvHeads * E]);
    }
    if (c.qkNorm) {
      shapes.set(`${p}.self_attn.q_norm.weight`, [E]);
      shapes.set(`${p}.self_attn.k_norm.weight`, [E]);
    }
    shapes.set(`${p}.self_attn.o_proj.weight`, [c.hiddenSize, c.numHeads * E]);
    shapes.set(`${p}.post_attention_layernorm.weight`, [c.hiddenSize]);
    shapes.set(`${p}.mlp.gate_proj.weight`, [c.intermediateSize, c.hiddenSize]);
    shapes.set(`${p}.mlp.up_proj.weight`, [c.intermediateSize, c.hiddenSize]);
    shapes.set(`${p}.mlp.down_proj.weight`, [c.hiddenSize, c.intermediateSize]);
  }
  shapes.set('model.norm.weight', [c.hiddenSize]);
  if (!c.tieEmbeddings) shapes.set('lm_head.weight', [c.vocabSize, c.hiddenSize]);
  return shapes;
}

/** Parameter count of a config. */
export const parameterCount = (c: ModelConfig): number => [...weightShapes(c).values()].reduce((n, s) => n + s.reduce((a, b) => a * b, 1), 0);

/** Per-layer key/value cache for incremental decoding. */
export interface KVCache {
  /** [B, K, S, E] per layer. */
  readonly keys: tf.Tensor4D[];
  readonly values: tf.Tensor4D[];
  /** Tokens already cached (S). */
  readonly length: number;
}

/** Inputs of one forward pass. */
export interface ForwardInput {
  /** [B, T] token ids. */
  readonly ids: tf.Tensor2D;
  /** [B, T] positions of the new tokens (default: cache length + 0…T-1). */
  readonly positions?: tf.Tensor2D;
  /** [B, S] 1 for real tokens, 0 for padding, over cached + new tokens (default: all real). */
  readonly attentionMask?: tf.Tensor2D;
  /** [B, T] sequence ids of packed rows: tokens attend only within their own sequence (no cache). */
  readonly segmentIds?: tf.Tensor2D;
  readonly cache?: KVCache;
  /** Query rows per causal attention block (default {@link ATTENTION_BLOCK}; Infinity: one block). */
  readonly attentionBlock?: number;
}

/** A Qwen2-style decoder whose weights are tf.Variables. */
export class Transformer {
  readonly headSize: number;
  private readonly invFreq: tf.Tensor1D;
  /** A LoRA adapter in use: its layers add to the base ones, and only it trains. */
  adapter: LoraAdapter | null = null;

  constructor(
    readonly config: ModelConfig,
    readonly weights: Map<string, tf.Variable>,
  ) {
    checkConfig(config);
    this.headSize = headSizeOf(config);
    const expected = weightShapes(config);
    for (const [name, shape] of expected) {
      const w = weights.get(name);
      if (!w) throw new Error(`model weights: '${name}' is missing (expected shape [${shape.join(', ')}])`);
      if (w.shape.join(',') !== shape.join(',')) {
        throw new Error(`model weights: '${name}' has shape [${w.shape.join(', ')}], expected [${shape.join(', ')}]`);
      }
    }
    this.invFreq = tf.keep(tf.tensor1d(ropeInvFreq(config.ropeTheta, this.headSize, config.ropeScaling))); // [E/2]
  }

  /** A freshly initialised model: N(0, 0.02) linear and embedding weights, unit norms, zero biases. */
  static init(config: ModelConfig, seed = 0): Transformer {
    checkConfig(config);
    const weights = new Map<string, tf.Variable>();
    let k = 0;
    for (const [name, shape] of weightShapes(config)) {
      const value = name.endsWith('norm.weight') // every RMSNorm (layers, q/k, final) starts at 1
        ? tf.ones(shape)
        : name.endsWith('.bias')
          ? tf.zeros(shape)
          : tf.randomNormal(shape, 0, 0.02, 'float32', seed * 1000 + ++k); // never seed 0: TF.js reads 0 as "unseeded"
      weights.set(name, tf.variable(value, true));
      value.dispose();
    }
    return new Transformer(config, weights);
  }

  private w(name: string): tf.Variable {
    return this.weights.get(name) as tf.Variable;
  }

  /** The trainable variables by name: the adapter's when one is attached, else every weight. */
  trainable(): ReadonlyMap<string, tf.Variable> {
    return this.adapter ? this.adapter.variables() : this.weights;
  }

  /** The trainable variables, in a fixed order. */
  variables(): tf.Variable[] {
    return [...this.trainable().values()];
  }

  /** Folds the adapter into the base weights (W += (α/r)·B·A) and drops it. */
  mergeAdapter(): void {
    const adapter = this.adapter;
    if (!adapter) throw new Error('merge: no adapter is attached');
    for (const [name, { A, B }] of adapter.modules) {
      const w = this.w(`${name}.weight`);
      tf.tidy(() => w.assign(tf.add(w, tf.mul(tf.matMul(B, A), adapter.scale))));
    }
    adapter.dispose();
    this.adapter = null;
  }

  private rmsNorm(x: tf.Tensor3D, weight: tf.Tensor1D): tf.Tensor3D {
    return rmsNorm(x, weight, this.config.rmsNormEps); // [B, T, D]
  }

  private linear(x: tf.Tensor2D, name: string, bias = false): tf.Tensor2D {
    let y = tf.matMul(x, this.w(`${name}.weight`) as tf.Tensor, false, true) as tf.Tensor2D; // [N, out]
    const delta = this.adapter?.delta(x, name);
    if (delta) y = tf.add(y, delta) as tf.Tensor2D;
    return bias ? (tf.add(y, this.w(`${name}.bias`) as tf.Tensor) as tf.Tensor2D) : y;
  }

  /**
   * A query or key projection split into heads, [B, heads, T, E]; with `qkNorm`, each
   * head's vector RMS-normalised by `${name}_norm` first (Qwen3).
   */
  private heads(x: tf.Tensor2D, name: string, B: number, T: number, n: number): tf.Tensor4D {
    const E = this.headSize;
    let y: tf.Tensor = this.linear(x, `${name}_proj`, this.config.attentionBias); // [B*T, n*E]
    if (this.config.qkNorm) y = this.rmsNorm(y.reshape([B, T * n, E]) as tf.Tensor3D, this.w(`${name}_norm.weight`) as tf.Tensor1D); // [B, T*n, E]
    return y.reshape([B, T, n, E]).transpose([0, 2, 1, 3]) as tf.Tensor4D;
  }

  /** cos and sin of the rotary angles for `positions` [B, T] → each [B, 1, T, E]. */
  private rotary(positions: tf.Tensor2D): [tf.Tensor4D, tf.Tensor4D] {
    const [B, T] = positions.shape;
    const angles = tf.mul(tf.expandDims(tf.cast(positions, 'float32'), -1), this.invFreq); // [B, T, E/2]
    const full = tf.concat([angles, angles], -1).reshape([B, 1, T, this.headSize]); // [B, 1, T, E]
    return [tf.cos(full) as tf.Tensor4D, tf.sin(full) as tf.Tensor4D];
  }

  /**
   * Runs the model on new tokens and returns logits [B, T, V] and the extended cache
   * (when a cache was given, or `withCache`). The caller owns both; dispose them.
   */
  forward(input: ForwardInput, withCache = false): { logits: tf.Tensor3D; cache: KVCache | null } {
    const { config: c } = this;
    const [B, T] = input.ids.shape;
    const past = input.cache?.length ?? 0;
    const S = past + T;
    if (S > c.maxPositions) throw new Error(`sequence of ${S} tokens exceeds maxPositions ${c.maxPositions}`);
    const keys: tf.Tensor4D[] = [];
    const values: tf.Tensor4D[] = [];
    const logits = tf.tidy(() => {
      const positions = input.positions ?? (tf.add(tf.range(past, S, 1, 'int32').expandDims(0), tf.zeros([B, T], 'int32')) as tf.Tensor2D); // [B, T]
      const [cos, sin] = this.rotary(positions); // [B, 1, T, E]
      if (input.segmentIds && input.cache) throw new Error('segmentIds (packing) cannot be combined with a cache');
      const groups = c.numHeads / c.numKvHeads;
      // Causal blocks: the queries of block [from, to) see keys [0, past + to) only, so
      // the scores above the diagonal's blocks are never computed (a quarter to a third
      // of the attention's products and softmax on long rows).
      const blocks = attentionBlocks(T, input.attentionBlock).map(([from, to]) => ({ from, to, bias: attentionBias(B, T, past, groups, input.attentionMask, input.segmentIds, from, to) })); // bias [B|1, 1, G*(to-from), past+to]
      let h = tf.gather(this.w('model.embed_tokens.weight'), input.ids) as tf.Tensor3D; // [B, T, D]
      const E = this.headSize;
      for (let l = 0; l < c.numLayers; l++) {
        const p = `model.layers.${l}`;
        const x = this.rmsNorm(h, this.w(`${p}.input_layernorm.weight`) as tf.Tensor1D).reshape([B * T, c.hiddenSize]) as tf.Tensor2D; // [B*T, D]
        const q = this.heads(x, `${p}.self_attn.q`, B, T, c.numHeads); // [B, H, T, E]
        let k = this.heads(x, `${p}.self_attn.k`, B, T, c.numKvHeads); // [B, K, T, E]
        let v = this.linear(x, `${p}.self_attn.v_proj`, c.attentionBias).reshape([B, T, c.numKvHeads, E]).transpose([0, 2, 1, 3]) as tf.Tensor4D; // [B, K, T, E]
        const qr = rotary(q, cos, sin); // [B, H, T, E]
        k = rotary(k, cos, sin); // [B, K, T, E]
        if (input.cache) {
          k = tf.concat([input.cache.keys[l] as tf.Tensor4D, k], 2); // [B, K, S, E]
          v = tf.concat([input.cache.values[l] as tf.Tensor4D, v], 2); // [B, K, S, E]
        }
        if (input.cache || withCache) {
          keys.push(tf.keep(k));
          values.push(tf.keep(v));
        }
        // Grouped-query attention: the `groups` query heads of each K/V head (head h =
        // kv·groups + g, as Hugging Face's repeat_kv) are stacked along the time axis, so
        // K and V are used without copies.
        const parts = blocks.map(({ from, to, bias }) => {
          const n = to - from;
          const qb = blocks.length === 1 ? qr : qr.slice([0, 0, from, 0], [B, c.numHeads, n, E]); // [B, H, n, E]
          const whole = to === T; // the last block sees every key
          const kb = whole ? k : k.slice([0, 0, 0, 0], [B, c.numKvHeads, past + to, E]); // [B, K, past+to, E]
          const vb = whole ? v : v.slice([0, 0, 0, 0], [B, c.numKvHeads, past + to, E]); // [B, K, past+to, E]
          const qg = qb.reshape([B, c.numKvHeads, groups * n, E]); // [B, K, G*n, E]
          const probs = maskedSoftmax(tf.matMul(qg, kb, false, true), bias, 1 / Math.sqrt(E)); // softmax(q·kᵀ/√E + mask), [B, K, G*n, past+to]
          return tf.matMul(probs, vb).reshape([B, c.numHeads, n, E]); // [B, H, n, E]
        });
        const attn = parts.length === 1 ? (parts[0] as tf.Tensor) : tf.concat(parts, 2); // [B, H, T, E]
        const merged = attn.transpose([0, 2, 1, 3]).reshape([B * T, c.numHeads * E]) as tf.Tensor2D; // [B*T, H*E]
        h = tf.add(h, this.linear(merged, `${p}.self_attn.o_proj`).reshape([B, T, c.hiddenSize])); // [B, T, D]
        const y = this.rmsNorm(h, this.w(`${p}.post_attention_layernorm.weight`) as tf.Tensor1D).reshape([B * T, c.hiddenSize]) as tf.Tensor2D; // [B*T, D]
        const gate = this.linear(y, `${p}.mlp.gate_proj`); // [B*T, I]
        const up = this.linear(y, `${p}.mlp.up_proj`); // [B*T, I]
        const act = swiglu(gate, up); // SwiGLU: silu(gate) * up, [B*T, I]
        h = tf.add(h, this.linear(act, `${p}.mlp.down_proj`).reshape([B, T, c.hiddenSize])); // [B, T, D]
      }
      const out = this.rmsNorm(h, this.w('model.norm.weight') as tf.Tensor1D).reshape([B * T, c.hiddenSize]) as tf.Tensor2D; // [B*T, D]
      const head = c.tieEmbeddings ? 'model.embed_tokens' : 'lm_head';
      return this.linear(out, head).reshape([B, T, c.vocabSize]) as tf.Tensor3D; // [B, T, V]
    });
    const cache = keys.length > 0 ? { keys, values, length: S } : null;
    return { logits, cache };
  }

  /**
   * Mean cross-entropy of `targets` [B, T] under `logits` from `ids`, counting only
   * positions where `lossMask` [B, T] is 1 (completion-only SFT).
   */
  loss(batch: { ids: tf.Tensor2D; targets: tf.Tensor2D; lossMask: tf.Tensor2D; positions?: tf.Tensor2D; segmentIds?: tf.Tensor2D; attentionBlock?: number }): tf.Scalar {
    const { ids, targets, lossMask } = batch;
    return tf.tidy(() => {
      const { logits } = this.forward({
        ids,
        ...(batch.positions ? { positions: batch.positions } : {}),
        ...(batch.segmentIds ? { segmentIds: batch.segmentIds } : {}),
        ...(batch.attentionBlock !== undefined ? { attentionBlock: batch.attentionBlock } : {}),
      }); // [B, T, V]
      const picked = targetLogProbs(logits, targets); // [B, T]
      const m = tf.cast(lossMask, 'float32'); // [B, T]
      const count = tf.maximum(tf.sum(m), 1);
      return tf.div(tf.neg(tf.sum(tf.mul(picked, m))), count) as tf.Scalar;
    });
  }

  dispose(): void {
    this.adapter?.dispose();
    for (const w of this.weights.values()) w.dispose();
    this.invFreq.dispose();
  }
}

/**
 * The additive attention mask [B|1, 1, G·n, past + to] of `forward`'s query rows
 * [from, to) (n = to − from; all T rows by default): 0 where the query at row t
 * (absolute index past + t) may see key s, −1e9 where it may not (a later key, a padding
 * key of `attentionMask` [B, S], a key of another packed segment of `segmentIds` [B, T]).
 * The rows repeat for each of the G query heads that share a key/value head, as
 * `forward` stacks them. Built in JS from the (small, integer) inputs: composed from
 * TF.js ops, the segment comparison and the tiling over G were broadcasting kernels
 * that took a third of a training step on wasm (0.6 s and 0.7 s at B=8, T=640).
 */
export function attentionBias(B: number, T: number, past: number, groups: number, attentionMask?: tf.Tensor2D, segmentIds?: tf.Tensor2D, from = 0, to = T): tf.Tensor4D {
  const S = past + to; // keys a query before `to` can see
  const n = to - from;
  const keep = attentionMask?.dataSync(); // [B, past + T]
  const seg = segmentIds?.dataSync(); // [B, T]
  const rows = keep || seg ? B : 1;
  const block = n * S;
  const out = new Float32Array(rows * groups * block).fill(-1e9);
  for (let b = 0; b < rows; b++) {
    const base = b * groups * block; // group 0 of batch row b
    for (let t = from; t < to; t++) {
      const row = base + (t - from) * S;
      const own = seg ? (seg[b * T + t] as number) : 0;
      for (let s = 0; s <= past + t; s++) {
        if (keep && keep[b * (past + T) + s] === 0) continue;
        if (seg && seg[b * T + s] !== own) continue;
        out[row + s] = 0;
      }
    }
    for (let g = 1; g < groups; g++) out.copyWithin(base + g * block, base, base + block);
  }
  return tf.tensor4d(out, [rows, 1, groups * n, S]);
}

/** Rows per causal attention block (see `attentionBlocks`): on wasm without BLAS, 128 and 256 took 10–25% off a tiny training step at T = 448–640 against one block. */
export const ATTENTION_BLOCK = 128;

/**
 * The causal blocks of T query rows, [from, to) each: one block under 2 × `block`
 * rows, else blocks of about `block` rows, sizes multiples of 4
 * where they can be (the SIMD kernels' lanes). Each block costs its rows × (past + to)
 * scores, so n blocks cost (n + 1) / 2n of the whole square.
 */
export function attentionBlocks(T: number, block = ATTENTION_BLOCK): [number, number][] {
  if (!(T >= 2 * block)) return [[0, T]];
  const n = Math.round(T / block);
  const size = Math.ceil(T / n / 4) * 4;
  const out: [number, number][] = [];
  for (let from = 0; from < T; from += size) out.push([from, Math.min(T, from + size)]);
  return out;
}

/** Frees a cache. */
export function disposeCache(cache: KVCache | null): void {
  if (!cache) return;
  for (const t of [...cache.keys, ...cache.values]) t.dispose();
}

/** A config from a preset name and vocabulary size, with overrides. */
export function presetConfig(name: keyof typeof PRESETS, vocabSize: number, overrides: Partial<ModelConfig> = {}): ModelConfig {
  const preset = PRESETS[name];
  if (!preset) throw new Error(`unknown model preset '${String(name)}': use one of ${Object.keys(PRESETS).join(', ')}`);
  return checkConfig({ ...preset, vocabSize, ...overrides });
}
