/**
 * Batched generation with a KV cache.
 *
 * Prompts of different lengths are left-padded and masked; one prefill pass fills the
 * cache, then each step feeds one token per row. Sampling (temperature, top-k, top-p)
 * runs on the host from a seeded RNG, so the same seed gives the same tokens. Every
 * sampled token comes with its log-probability under the temperature-scaled model
 * distribution (before top-k/top-p truncation): the behaviour-policy log-prob GRPO
 * needs. A row stops at its end-of-sequence token, at a stop string, or at
 * `maxNewTokens`.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../util/rng.js';
import type { Tokenizer } from './tokenizer.js';
import { disposeCache, type KVCache, type Transformer } from './transformer.js';

export interface SampleConfig {
  readonly maxNewTokens: number;
  /** 0 means greedy. */
  readonly temperature: number;
  /** Nucleus mass kept, 1 = off. */
  readonly topP: number;
  /** Candidates kept, 0 = off. */
  readonly topK: number;
  /** Generation stops once the text contains one of these (it is kept in the text). */
  readonly stop: readonly string[];
  readonly seed: number;
  /** One seed per prompt: each row draws from its own stream, so a row's sample does not depend on the rest of the batch. */
  readonly seeds?: readonly number[];
}

export const DEFAULT_SAMPLE_CONFIG: SampleConfig = { maxNewTokens: 256, temperature: 1, topP: 1, topK: 0, stop: [], seed: 0 };

/** One generated continuation. */
export interface Generation {
  readonly tokens: number[];
  /** Log-probability of each token in `tokens`. */
  readonly logprobs: number[];
  readonly text: string;
  readonly finishReason: 'stop' | 'length';
}

/** Picks a token from `logits` [V]; returns it and its log-probability. */
export function sampleToken(logits: Float32Array, config: Pick<SampleConfig, 'temperature' | 'topK' | 'topP'>, rng: Rng): { token: number; logprob: number } {
  const V = logits.length;
  const t = config.temperature > 0 ? config.temperature : 1;
  let max = -Infinity;
  for (let i = 0; i < V; i++) max = Math.max(max, (logits[i] as number) / t);
  let z = 0;
  const p = new Float64Array(V);
  for (let i = 0; i < V; i++) z += p[i] = Math.exp((logits[i] as number) / t - max);
  const logZ = Math.log(z) + max;
  const logprobOf = (i: number): number => (logits[i] as number) / t - logZ;
  if (config.temperature <= 0) {
    let best = 0;
    for (let i = 1; i < V; i++) if ((logits[i] as number) > (logits[best] as number)) best = i;
    return { token: best, logprob: logprobOf(best) };
  }
  let order = Array.from({ length: V }, (_, i) => i);
  if (config.topK > 0 || config.topP < 1) {
    order.sort((a, b) => (p[b] as number) - (p[a] as number));
    if (config.topK > 0) order = order.slice(0, config.topK);
    if (config.topP < 1) {
      let mass = 0;
      const kept: number[] = [];
      for (const i of order) {
        kept.push(i);
        mass += (p[i] as number) / z;
        if (mass >= config.topP) break;
      }
      order = kept;
    }
  }
  let total = 0;
  for (const i of order) total += p[i] as number;
  let r = rng.float() * total;
  for (const i of order) {
    r -= p[i] as number;
    if (r <= 0) return { token: i, logprob: logprobOf(i) };
  }
  const last = order[order.length - 1] as number;
  return { token: last, logprob: logprobOf(last) };
}

/** The tokens each row gained in one decoding step (rows that were already done gain none). */
export type StepTokens = readonly (readonly number[])[];

/** Generates a continuation for each prompt (token ids), batched. */
export function generate(model: Transformer, tokenizer: Tokenizer, prompts: readonly (readonly number[])[], config: Partial<SampleConfig> = {}): Generation[] {
  const steps = generateSteps(model, tokenizer, prompts, config);
  for (let r = steps.next(); ; r = steps.next()) if (r.done) return r.value;
}

/**
 * Like `generate`, but gives the event loop a turn after every step and reports each
 * step's new tokens, so a server can stream them as they are made.
 */
export async function generateStreaming(
  model: Transformer,
  tokenizer: Tokenizer,
  prompts: readonly (readonly number[])[],
  config: Partial<SampleConfig>,
  onStep: (tokens: StepTokens) => void = () => undefined,
  signal?: AbortSignal,
): Promise<Generation[]> {
  const steps = generateSteps(model, tokenizer, prompts, config);
  for (;;) {
    if (signal?.aborted) {
      steps.return([]); // runs the generator's finally: frees the cache
      signal.throwIfAborted();
    }
    const r = steps.next();
    if (r.done) return r.value;
    onStep(r.value);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function* generateSteps(model: Transformer, tokenizer: Tokenizer, prompts: readonly (readonly number[])[], config: Partial<SampleConfig> = {}): Generator<StepTokens, Generation[], undefined> {
  const c = { ...DEFAULT_SAMPLE_CONFIG, ...config };
  if (prompts.length === 0) return [];
  if (prompts.some((p) => p.length === 0)) throw new Error('generate: every prompt needs at least one token');
  const B = prompts.length;
  const L = Math.max(...prompts.map((p) => p.length));
  if (L + c.maxNewTokens > model.config.maxPositions) {
    throw new Error(`generate: prompt (${L}) + maxNewTokens (${c.maxNewTokens}) exceeds the model's ${model.config.maxPositions} positions`);
  }
  if (c.seeds && c.seeds.length !== prompts.length) throw new Error(`generate: ${c.seeds.length} seeds for ${prompts.length} prompts`);
  const shared = new Rng(c.seed);
  const rngs = prompts.map((_, b) => (c.seeds ? new Rng(c.seeds[b] as number) : shared));
  const mask: number[][] = prompts.map((p) => [...Array<number>(L - p.length).fill(0), ...Array<number>(p.length).fill(1)]);
  const ids = prompts.map((p) => [...Array<number>(L - p.length).fill(tokenizer.pad), ...p]);
  const nextPos = prompts.map((p) => p.length); // position of the next token per row
  const out = prompts.map(() => ({ tokens: [] as number[], logprobs: [] as number[], done: false, reason: 'length' as 'stop' | 'length', text: '' }));
  let cache: KVCache | null = null;
  let last: Float32Array[];
  try {
    {
      // Identical prompts (a GRPO group) are prefilled once and their cache rows copied.
      const uniqueKey = new Map<string, number>();
      const rowOf = prompts.map((p) => {
        const key = p.join(',');
        let u = uniqueKey.get(key);
        if (u === undefined) {
          u = uniqueKey.size;
          uniqueKey.set(key, u);
        }
        return u;
      });
      const U = uniqueKey.size;
      const firstRow = [...Array(U).keys()].map((u) => rowOf.indexOf(u));
      const uIds = firstRow.map((b) => ids[b] as number[]);
      const uMask = firstRow.map((b) => mask[b] as number[]);
      const idT = tf.tensor2d(uIds, [U, L], 'int32');
      const maskT = tf.tensor2d(uMask, [U, L], 'int32');
      const posT = tf.tensor2d(uMask.map((row) => row.map((_, j) => Math.max(0, j - (L - row.reduce((a, b) => a + b, 0))))), [U, L], 'int32');
      const r = model.forward({ ids: idT, attentionMask: maskT, positions: posT }, true);
      const prefill = r.cache as KVCache;
      if (U === B) cache = prefill;
      else {
        const idx = tf.tensor1d(rowOf, 'int32');
        cache = { keys: prefill.keys.map((k) => tf.gather(k, idx)), values: prefill.values.map((v) => tf.gather(v, idx)), length: prefill.length };
        disposeCache(prefill);
        idx.dispose();
      }
      const lastLogits = tf.tidy(() => r.logits.slice([0, L - 1, 0], [U, 1, model.config.vocabSize]).reshape([U, model.config.vocabSize]));
      const flat = lastLogits.dataSync() as Float32Array;
      last = prompts.map((_, b) => flat.subarray((rowOf[b] as number) * model.config.vocabSize, ((rowOf[b] as number) + 1) * model.config.vocabSize));
      [idT, maskT, posT, r.logits, lastLogits].forEach((t) => t.dispose());
    }
    for (let step = 0; step < c.maxNewTokens; step++) {
      const chosen: number[] = [];
      const gained: number[][] = prompts.map(() => []);
      for (let b = 0; b < B; b++) {
        const row = out[b] as (typeof out)[number];
        if (row.done) {
          chosen.push(tokenizer.pad);
          continue;
        }
        const { token, logprob } = sampleToken(last[b] as Float32Array, c, rngs[b] as Rng);
        gained[b] = [token];
        row.tokens.push(token);
        row.logprobs.push(logprob);
        chosen.push(token);
        if (token === tokenizer.eos) {
          row.done = true;
          row.reason = 'stop';
        } else if (c.stop.length > 0) {
          const text = tokenizer.decode(row.tokens);
          if (c.stop.some((s) => text.includes(s))) {
            row.done = true;
            row.reason = 'stop';
          }
        }
        if ((row.done && row.reason === 'stop') || row.tokens.length >= c.maxNewTokens) row.done = true;
      }
      yield gained;
      if (out.every((r) => r.done)) break;
      for (let b = 0; b < B; b++) mask[b]?.push((out[b] as (typeof out)[number]).tokens.length > 0 ? 1 : 0);
      const idT = tf.tensor2d(chosen, [B, 1], 'int32');
      const posT = tf.tensor2d(nextPos.map((p) => [p]), [B, 1], 'int32');
      const maskT = tf.tensor2d(mask, [B, (cache as KVCache).length + 1], 'int32');
      const r = model.forward({ ids: idT, positions: posT, attentionMask: maskT, cache: cache as KVCache });
      disposeCache(cache);
      cache = r.cache;
      const flat = r.logits.dataSync() as Float32Array;
      last = prompts.map((_, b) => flat.subarray(b * model.config.vocabSize, (b + 1) * model.config.vocabSize));
      [idT, posT, maskT, r.logits].forEach((t) => t.dispose());
      for (let b = 0; b < B; b++) nextPos[b] = (nextPos[b] as number) + 1;
    }
  } finally {
    disposeCache(cache);
  }
  return out.map((r) => ({ tokens: r.tokens, logprobs: r.logprobs, text: tokenizer.decode(r.tokens, { skipSpecial: true }), finishReason: r.reason }));
}
