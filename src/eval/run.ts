/**
 * The evaluation protocol: n samples per question at temperature T (the paper: n = 4,
 * T = 0.7, top-p 0.95), scored by the reward modules training uses. Reports accuracy
 * as mean ± std across the n samples (accuracy of sample j over all questions, for
 * j = 1…n), pass@k with the unbiased estimator, and the same by subset.
 */
import { bootstrapMean } from './bootstrap.js';
import { generate } from '../model/sample.js';
import type { Tokenizer } from '../model/tokenizer.js';
import type { Transformer } from '../model/transformer.js';
import type { RewardResult, RewardSample } from '../reward/types.js';
import type { ChatTeacher } from '../teacher/types.js';
import { deriveSeed } from '../util/rng.js';
import type { EvalItem, EvalSet } from './benchmarks.js';
import { passAtK } from './pass-at-k.js';

export interface EvalOptions {
  readonly n: number;
  readonly temperature: number;
  readonly topP: number;
  readonly maxNewTokens: number;
  readonly seed: number;
  readonly stop: readonly string[];
}

export const PAPER_EVAL: Omit<EvalOptions, 'stop'> = { n: 4, temperature: 0.7, topP: 0.95, maxNewTokens: 1024, seed: 0 };

/** What a model is asked: the prompt text, and the chat list it was rendered from, if any. */
export type EvalPrompt = Pick<EvalItem, 'prompt' | 'messages'>;

/** Something that completes prompts: a local checkpoint or an OpenAI-compatible server. */
export interface EvalModel {
  readonly name: string;
  /** Questions per `complete` call that suit it (a local model's generation batch); `evaluateModel` asks for this many at a time. */
  readonly batchPrompts?: number;
  /** n completions of each prompt (`keys` seed each question's samples); a server gets chat-list prompts as messages. */
  complete(prompts: readonly EvalPrompt[], keys: readonly number[], options: EvalOptions): Promise<{ text: string; tokens: number }[][]>;
}

/** A local model; prompts are generated `batchPrompts` at a time (× n rows, the prompt prefilled once). */
export function localModel(model: Transformer, tokenizer: Tokenizer, name: string, batchPrompts = 8): EvalModel {
  return {
    name,
    batchPrompts,
    async complete(prompts, keys, o) {
      const out: { text: string; tokens: number }[][] = [];
      for (let s = 0; s < prompts.length; s += batchPrompts) {
        const chunk = prompts.slice(s, s + batchPrompts);
        const ids = chunk.flatMap((p) => {
          const enc = tokenizer.encode(p.prompt);
          const room = model.config.maxPositions - o.maxNewTokens;
          return Array.from({ length: o.n }, () => (enc.length > room ? enc.slice(enc.length - room) : enc));
        });
        const seeds = chunk.flatMap((_, i) => Array.from({ length: o.n }, (_, j) => deriveSeed(o.seed, keys[s + i] as number, j)));
        const gens = generate(model, tokenizer, ids, { maxNewTokens: o.maxNewTokens, temperature: o.temperature, topP: o.topP, stop: [...o.stop], seeds });
        chunk.forEach((_, i) => out.push(gens.slice(i * o.n, (i + 1) * o.n).map((g) => ({ text: g.text, tokens: g.tokens.length }))));
        await new Promise((r) => setImmediate(r)); // let scoring results in
      }
      return out;
    },
  };
}

/** A model behind an OpenAI-compatible server (through the teacher client: retries, timeouts, concurrency). */
export function serverModel(teacher: ChatTeacher, name: string): EvalModel {
  return {
    name,
    async complete(prompts, _keys, o) {
      return Promise.all(
        prompts.map(async (p) => {
          const options = { n: o.n, temperature: o.temperature, topP: o.topP, maxTokens: o.maxNewTokens, stop: o.stop };
          const c = await (p.messages ? teacher.chat(p.messages, options) : teacher.sample(p.prompt, options));
          return Array.from({ length: o.n }, (_, j) => ({ text: c[j]?.text ?? '', tokens: c[j]?.nTokens ?? 0 }));
        }),
      );
    },
  };
}

/** One scored sample. */
export interface EvalSample {
  readonly id: string;
  readonly sample: number;
  readonly completion: string;
  readonly tokens: number;
  readonly score: number | null;
  readonly status: string;
  readonly correct: boolean;
  readonly subsets: Readonly<Record<string, string>>;
}

/** Accuracy as mean ± std across samples. */
export interface Accuracy {
  readonly items: number;
  readonly mean: number;
  readonly std: number;
  /** Accuracy of sample j over the questions. */
  readonly perSample: number[];
  /** 95% percentile-bootstrap interval of `mean` over the questions (each question's mean over its n samples). */
  readonly ci95: readonly [number, number];
  readonly passAtK: Record<string, number>;
}

export interface EvalSummary {
  readonly bench: string;
  readonly source: string;
  readonly model: string;
  readonly n: number;
  readonly temperature: number;
  readonly overall: Accuracy;
  /** "subset=value" → accuracy. */
  readonly bySubset: Record<string, Accuracy>;
  readonly meanTokens: number;
  readonly statuses: Record<string, number>;
  /** Share of samples whose answer parses (any status but `format_error`), correct or not. */
  readonly format: number;
}

/** Accuracy of a set of questions, each with n correctness flags. */
export function accuracyOf(rows: readonly (readonly boolean[])[], n: number): Accuracy {
  const perSample = Array.from({ length: n }, (_, j) => (rows.length ? rows.filter((r) => r[j]).length / rows.length : 0));
  const mean = perSample.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(perSample.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1)) : 0;
  const passAt: Record<string, number> = {};
  for (const k of [1, 2, 4, 8, 16].filter((k) => k <= n)) passAt[`pass@${k}`] = rows.length ? rows.reduce((s, r) => s + passAtK(n, r.filter(Boolean).length, k), 0) / rows.length : 0;
  const perItem = rows.map((r) => r.filter(Boolean).length / Math.max(1, r.length));
  const ci = perItem.length ? bootstrapMean([perItem], { seed: 0 }) : { lo: 0, hi: 0 };
  return { items: rows.length, mean, std, perSample, ci95: [ci.lo, ci.hi], passAtK: passAt };
}

/** Summarises scored samples (grouped by question in order, n per question). */
export function summarise(set: Pick<EvalSet, 'bench' | 'source' | 'items'>, model: string, options: Pick<EvalOptions, 'n' | 'temperature'>, samples: readonly EvalSample[]): EvalSummary {
  const byId = new Map<string, EvalSample[]>();
  for (const s of samples) {
    const list = byId.get(s.id);
    if (list) list.push(s);
    else byId.set(s.id, [s]);
  }
  const flags = (items: readonly EvalItem[]): boolean[][] => items.map((it) => (byId.get(it.id) ?? []).sort((a, b) => a.sample - b.sample).map((s) => s.correct));
  // Items grouped by subset in one pass (in set order), not one pass over the set per subset value.
  const subsetItems = new Map<string, EvalItem[]>();
  for (const it of set.items) {
    for (const [k, v] of Object.entries(it.subsets)) {
      const key = `${k}=${v}`;
      const list = subsetItems.get(key);
      if (list) list.push(it);
      else subsetItems.set(key, [it]);
    }
  }
  const bySubset: Record<string, Accuracy> = {};
  for (const key of [...subsetItems.keys()].sort()) bySubset[key] = accuracyOf(flags(subsetItems.get(key) as EvalItem[]), options.n);
  const statuses: Record<string, number> = {};
  for (const s of samples) statuses[s.status] = (statuses[s.status] ?? 0) + 1;
  return {
    bench: set.bench,
    source: set.source,
    model,
    n: options.n,
    temperature: options.temperature,
    overall: accuracyOf(flags(set.items), options.n),
    bySubset,
    meanTokens: samples.length ? samples.reduce((a, s) => a + s.tokens, 0) / samples.length : 0,
    statuses,
    format: samples.length ? 1 - (statuses.format_error ?? 0) / samples.length : 0,
  };
}

/**
 * Samples and scores every question of `set`, `batchPrompts` questions at a time (the
 * model's own batch, else 8); `onProgress(done, total)` after each batch. Scoring of a
 * batch overlaps generation of the next.
 */
export async function evaluateModel(
  set: EvalSet,
  model: EvalModel,
  score: (sample: RewardSample, signal: AbortSignal) => Promise<RewardResult>,
  options: EvalOptions,
  onProgress: (done: number, total: number) => void = () => undefined,
  batchPrompts = model.batchPrompts ?? 8,
): Promise<{ summary: EvalSummary; samples: EvalSample[] }> {
  const pending: Promise<EvalSample>[] = [];
  const signal = new AbortController().signal;
  let done = 0;
  for (let s = 0; s < set.items.length; s += batchPrompts) {
    const chunk = set.items.slice(s, s + batchPrompts);
    const completions = await model.complete(
      chunk,
      chunk.map((_, i) => s + i),
      options,
    );
    chunk.forEach((it, i) =>
      (completions[i] ?? []).forEach((c, j) =>
        pending.push(
          score({ id: `${it.id}#${j}`, prompt: it.prompt, completion: c.text, row: it.row }, signal).then((r) => ({
            id: it.id,
            sample: j,
            completion: c.text,
            tokens: c.tokens,
            score: r.score,
            status: r.status,
            correct: r.status === 'ok',
            subsets: it.subsets,
          })),
        ),
      ),
    );
    done += chunk.length;
    onProgress(done, set.items.length);
  }
  const samples = await Promise.all(pending);
  return { summary: summarise(set, model.name, options, samples), samples };
}
