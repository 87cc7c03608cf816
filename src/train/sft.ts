/**
 * Supervised fine-tuning for the warmup: completion-only loss on {prompt, completion}
 * pairs, AdamW with clipping and a warmup + cosine/constant schedule, gradient
 * accumulation, and packing (several examples per row, attending only within their own
 * example) or length bucketing, so padding wastes little compute.
 *
 * The loop, top to bottom, per optimiser step:
 *   1. take `gradAccum` micro-batches in the seeded order of this epoch;
 *   2. sum their gradients (each scaled by its share of loss tokens);
 *   3. stop with an error if the loss is NaN or infinite (the last checkpoint stays);
 *   4. clip to `clipNorm`, set the scheduled learning rate, apply AdamW;
 *   5. emit metrics; evaluate and checkpoint on their cadence.
 */
import * as tf from '@tensorflow/tfjs';
import { readRows } from '../data/dataset.js';
import { deriveSeed, Rng } from '../util/rng.js';
import { chatMessages, renderChatML, type ChatMessage } from '../util/chat.js';
import { saveCheckpoint } from '../model/checkpoint.js';
import type { Tokenizer } from '../model/tokenizer.js';
import type { Transformer } from '../model/transformer.js';
import { accumulateGrads, AdamW, DEFAULT_ADAMW, learningRate, type AdamWConfig } from './optim.js';

/** One training pair. */
export interface SFTExample {
  readonly prompt: string;
  readonly completion: string;
}

export interface SFTConfig extends AdamWConfig {
  readonly epochs: number;
  /** Tokens per row (longer examples are truncated). */
  readonly maxLength: number;
  /** Rows per micro-batch. */
  readonly batchSize: number;
  /** Micro-batches per optimiser step. */
  readonly gradAccum: number;
  readonly warmupSteps: number;
  readonly schedule: 'cosine' | 'constant';
  /** Final learning rate as a fraction of the peak (cosine). */
  readonly minLrRatio: number;
  /** Several examples per row (true) or one example per row, bucketed by length (false). */
  readonly packing: boolean;
  readonly seed: number;
  /** Evaluate on the held-out split every this many steps (0: only at the end). */
  readonly evalEvery: number;
  /** Save a checkpoint every this many steps (0: only at the end). */
  readonly saveEvery: number;
}

/** Defaults sized for the tiny preset on a CPU; every one can be overridden. */
export const DEFAULT_SFT: SFTConfig = {
  ...DEFAULT_ADAMW,
  lr: 1e-3, // small models tolerate a high peak; the paper's 3B student used ~1e-5
  epochs: 3,
  maxLength: 512, // covers a 7-person K&K quiz with a short trace in the embedded tokenizer
  batchSize: 8,
  gradAccum: 1,
  warmupSteps: 20,
  schedule: 'cosine',
  minLrRatio: 0.1,
  packing: true,
  seed: 0,
  evalEvery: 0,
  saveEvery: 0,
};

/** A tokenized example: ids and which of them the loss counts (the completion and EOS). */
export interface TokenizedExample {
  readonly ids: number[];
  readonly lossMask: number[];
}

/** Tokenizes prompt + completion + EOS; the loss counts completion tokens only. */
export function tokenizeExample(tokenizer: Tokenizer, ex: SFTExample, maxLength: number): TokenizedExample {
  const p = tokenizer.encode(ex.prompt);
  const c = [...tokenizer.encode(ex.completion), tokenizer.eos];
  const ids = [...p, ...c].slice(0, maxLength);
  const lossMask = [...p.map(() => 0), ...c.map(() => 1)].slice(0, maxLength);
  return { ids, lossMask };
}

/** One micro-batch as plain arrays: inputs, next-token targets, loss mask, positions and segments, each [B][T]. */
export interface Batch {
  readonly ids: number[][];
  readonly targets: number[][];
  readonly lossMask: number[][];
  readonly positions: number[][];
  readonly segmentIds: number[][];
  /** Tokens the loss counts. */
  readonly tokens: number;
  /** Real (non-padding) input tokens. */
  readonly inputTokens: number;
}

/**
 * The earliest of a growing list of bins with at least a given room, in O(log bins):
 * a max-tree over the bins' free room. Scanning the bins instead made packing an
 * epoch quadratic in its examples (most rows keep some room, so the list of open rows
 * grows with the data set).
 */
export class FirstFit {
  /** Leaves at [capacity, 2 · capacity): each bin's room, -1 where there is no bin yet; inner nodes hold their children's max. */
  private tree = new Int32Array(2).fill(-1);
  private capacity = 1;
  private bins = 0;

  /** Bins so far. */
  get size(): number {
    return this.bins;
  }

  /** The index of the first bin with room >= `need`, or -1 if none has it. */
  find(need: number): number {
    if (this.bins === 0 || (this.tree[1] as number) < need) return -1;
    let node = 1;
    while (node < this.capacity) node = (this.tree[2 * node] as number) >= need ? 2 * node : 2 * node + 1;
    return node - this.capacity;
  }

  /** Appends a bin with `room` and returns its index. */
  add(room: number): number {
    if (this.bins === this.capacity) {
      const old = this.tree;
      this.capacity *= 2;
      this.tree = new Int32Array(2 * this.capacity).fill(-1);
      this.tree.set(old.subarray(this.bins, 2 * this.bins), this.capacity);
      for (let node = this.capacity - 1; node >= 1; node--) this.tree[node] = Math.max(this.tree[2 * node] as number, this.tree[2 * node + 1] as number);
    }
    const i = this.bins++;
    this.set(i, room);
    return i;
  }

  /** Sets bin `i`'s room. */
  set(i: number, room: number): void {
    let node = i + this.capacity;
    this.tree[node] = room;
    for (node >>= 1; node >= 1; node >>= 1) this.tree[node] = Math.max(this.tree[2 * node] as number, this.tree[2 * node + 1] as number);
  }
}

/**
 * Cuts examples into micro-batches. Each example contributes inputs s[:-1] and
 * targets s[1:]. Packing fills rows first-fit; bucketing sorts by length within
 * windows so rows in a batch are alike. Padding has segment -1 and no loss.
 */
export function makeBatches(examples: readonly TokenizedExample[], config: Pick<SFTConfig, 'maxLength' | 'batchSize' | 'packing'>, pad: number, rng: Rng): Batch[] {
  const order = rng.shuffle([...examples.keys()]);
  type Row = { ids: number[]; targets: number[]; mask: number[]; pos: number[]; seg: number[] };
  const newRow = (): Row => ({ ids: [], targets: [], mask: [], pos: [], seg: [] });
  const rows: Row[] = [];
  const addTo = (row: Row, ex: TokenizedExample, segment: number): void => {
    const n = ex.ids.length - 1;
    for (let t = 0; t < n; t++) {
      row.ids.push(ex.ids[t] as number);
      row.targets.push(ex.ids[t + 1] as number);
      row.mask.push(ex.lossMask[t + 1] as number);
      row.pos.push(t);
      row.seg.push(segment);
    }
  };
  const usable = order.map((i) => examples[i] as TokenizedExample).filter((e) => e.ids.length >= 2);
  if (config.packing) {
    // First fit: each example goes to the earliest row with room for it.
    const fit = new FirstFit();
    for (const ex of usable) {
      const need = ex.ids.length - 1;
      let i = fit.find(need);
      if (i < 0) {
        rows.push(newRow());
        i = fit.add(config.maxLength);
      }
      const row = rows[i] as Row;
      addTo(row, ex, row.seg.length === 0 ? 0 : (row.seg[row.seg.length - 1] as number) + 1);
      fit.set(i, config.maxLength - row.ids.length);
    }
  } else {
    const window = config.batchSize * 32;
    for (let w = 0; w < usable.length; w += window) {
      const chunk = usable.slice(w, w + window).sort((a, b) => a.ids.length - b.ids.length);
      for (const ex of chunk) {
        const row = newRow();
        addTo(row, ex, 0);
        rows.push(row);
      }
    }
  }
  const batches: Batch[] = [];
  for (let b = 0; b < rows.length; b += config.batchSize) {
    const group = rows.slice(b, b + config.batchSize);
    const T = Math.max(...group.map((r) => r.ids.length));
    const padTo = (xs: number[], v: number): number[] => [...xs, ...Array<number>(T - xs.length).fill(v)];
    batches.push({
      ids: group.map((r) => padTo(r.ids, pad)),
      targets: group.map((r) => padTo(r.targets, pad)),
      lossMask: group.map((r) => padTo(r.mask, 0)),
      positions: group.map((r) => padTo(r.pos, 0)),
      segmentIds: group.map((r) => padTo(r.seg, -1)),
      tokens: group.reduce((n, r) => n + r.mask.reduce((a, x) => a + x, 0), 0),
      inputTokens: group.reduce((n, r) => n + r.ids.length, 0),
    });
  }
  // Bucketed rows came out sorted by length; shuffle the batches, not the rows.
  return config.packing ? batches : rng.shuffle(batches);
}

/** Metrics of one optimiser step. */
export interface SFTStep {
  readonly step: number;
  readonly epoch: number;
  readonly loss: number;
  readonly lr: number;
  readonly gradNorm: number;
  /** Real input tokens (forward and backward) per second over this step. */
  readonly tokensPerSec: number;
  readonly totalSteps: number;
  /** Held-out loss, on evaluation steps. */
  readonly evalLoss?: number;
}

/** Thrown when the loss stops being finite; the run stops without saving the broken weights. */
export class NonFiniteLossError extends Error {}

function toTensors(b: Batch) {
  const shape: [number, number] = [b.ids.length, b.ids[0]?.length ?? 0];
  return {
    ids: tf.tensor2d(b.ids, shape, 'int32'),
    targets: tf.tensor2d(b.targets, shape, 'int32'),
    lossMask: tf.tensor2d(b.lossMask, shape, 'int32'),
    positions: tf.tensor2d(b.positions, shape, 'int32'),
    segmentIds: tf.tensor2d(b.segmentIds, shape, 'int32'),
  };
}

/** What a trainer saves to resume exactly. */
interface TrainerState {
  readonly step: number;
  readonly config: SFTConfig;
}

/** The SFT loop over a model; owns the optimiser. */
export class SFTTrainer {
  readonly config: SFTConfig;
  readonly optimizer: AdamW;

  constructor(
    readonly model: Transformer,
    readonly tokenizer: Tokenizer,
    config: Partial<SFTConfig> = {},
  ) {
    this.config = { ...DEFAULT_SFT, ...config };
    for (const k of ['epochs', 'maxLength', 'batchSize', 'gradAccum'] as const) {
      if (!Number.isInteger(this.config[k]) || this.config[k] < 1) throw new Error(`sft: ${k} must be a positive integer, got ${this.config[k]}`);
    }
    if (!(this.config.lr > 0)) throw new Error(`sft: lr must be > 0, got ${this.config.lr}`);
    this.optimizer = new AdamW(this.config, model.trainable());
  }

  /** Mean loss over examples (no gradients). */
  evaluate(examples: readonly TokenizedExample[]): number {
    const batches = makeBatches(examples, this.config, this.tokenizer.pad, new Rng(0));
    let sum = 0;
    let tokens = 0;
    for (const b of batches) {
      if (b.tokens === 0) continue;
      const t = toTensors(b);
      const l = this.model.loss(t);
      sum += (l.dataSync()[0] as number) * b.tokens;
      tokens += b.tokens;
      [l, ...Object.values(t)].forEach((x) => x.dispose());
    }
    return tokens > 0 ? sum / tokens : Number.NaN;
  }

  /** The micro-batches of `epoch`, in the seeded order. */
  epochBatches(train: readonly TokenizedExample[], epoch: number): Batch[] {
    return makeBatches(train, this.config, this.tokenizer.pad, new Rng(deriveSeed(this.config.seed, epoch)));
  }

  /**
   * Trains on `train`, yielding metrics per optimiser step. Resumes after
   * `this.optimizer.step` steps (set by `resume`). With `outDir`, saves checkpoints on
   * the `saveEvery` cadence and at the end.
   */
  async *train(train: readonly TokenizedExample[], options: { evalSet?: readonly TokenizedExample[]; outDir?: string; signal?: AbortSignal } = {}): AsyncGenerator<SFTStep> {
    const c = this.config;
    // An example whose completion lies entirely past maxLength teaches nothing (and a
    // batch of only such examples would have no gradient): leave it out.
    train = train.filter((e) => e.lossMask.some((m) => m === 1));
    if (train.length === 0) throw new Error(`sft: no example has a completion token within maxLength ${c.maxLength}: the prompts fill it; raise --max-length`);
    // The batches of an epoch are cut once, not at every step.
    let cached: { epoch: number; batches: Batch[] } = { epoch: 0, batches: this.epochBatches(train, 0) };
    const perEpoch = Math.ceil(cached.batches.length / c.gradAccum);
    if (perEpoch === 0) throw new Error('sft: no training examples with at least two tokens');
    const totalSteps = perEpoch * c.epochs;
    const vars = this.model.variables();
    while (this.optimizer.step < totalSteps) {
      // A step is synchronous: let I/O in between (the metrics file opens and flushes as
      // training goes, and an interrupt's handler can run and set the signal).
      await new Promise((resolve) => setImmediate(resolve));
      options.signal?.throwIfAborted();
      const step = this.optimizer.step;
      const epoch = Math.floor(step / perEpoch);
      if (cached.epoch !== epoch) cached = { epoch, batches: this.epochBatches(train, epoch) };
      const { batches } = cached;
      const micro = batches.slice((step % perEpoch) * c.gradAccum, (step % perEpoch + 1) * c.gradAccum);
      const t0 = performance.now();
      const stepTokens = micro.reduce((n, b) => n + b.tokens, 0);
      let lossSum = 0;
      let grads: Record<string, tf.Tensor> | null = null;
      for (const b of micro) {
        if (b.tokens === 0) continue;
        const t = toTensors(b);
        const weight = b.tokens / Math.max(1, stepTokens);
        const { value, grads: g } = tf.variableGrads(() => tf.mul(this.model.loss(t), weight) as tf.Scalar, vars);
        lossSum += value.dataSync()[0] as number;
        grads = accumulateGrads(grads, g);
        [value, ...Object.values(t)].forEach((x) => x.dispose());
      }
      if (!Number.isFinite(lossSum)) {
        Object.values(grads ?? {}).forEach((g) => g.dispose());
        throw new NonFiniteLossError(`sft: the loss became ${lossSum} at step ${step + 1} (epoch ${epoch + 1}); stopped without saving, the last checkpoint is kept. Lower --lr or check the data.`);
      }
      const lr = learningRate(step, c.lr, c.warmupSteps, totalSteps, c.schedule, c.minLrRatio);
      if (!grads) throw new Error(`internal: sft step ${step + 1} has no loss tokens`);
      const gradNorm = this.optimizer.apply(grads, lr);
      Object.values(grads ?? {}).forEach((g) => g.dispose());
      if (!Number.isFinite(gradNorm)) throw new NonFiniteLossError(`sft: the gradient norm became ${gradNorm} at step ${step + 1}; stopped without saving.`);
      const done = this.optimizer.step;
      const isLast = done === totalSteps;
      let evalLoss: number | undefined;
      if (options.evalSet && options.evalSet.length > 0 && (isLast || (c.evalEvery > 0 && done % c.evalEvery === 0))) evalLoss = this.evaluate(options.evalSet);
      if (options.outDir && (isLast || (c.saveEvery > 0 && done % c.saveEvery === 0))) await this.save(options.outDir);
      yield {
        step: done,
        epoch: epoch + 1,
        loss: lossSum,
        lr,
        gradNorm,
        tokensPerSec: micro.reduce((n, b) => n + b.inputTokens, 0) / ((performance.now() - t0) / 1000),
        totalSteps,
        ...(evalLoss !== undefined ? { evalLoss } : {}),
      };
    }
  }

  /** Saves model, tokenizer, optimizer and trainer state (atomically). */
  async save(dir: string): Promise<void> {
    const state: TrainerState = { step: this.optimizer.step, config: this.config };
    await saveCheckpoint(dir, this.model, this.tokenizer, { optimizer: this.optimizer.state(), trainerState: state });
  }

  /** Restores optimizer moments and the step count saved by `save`. */
  resume(optimizer: ReadonlyMap<string, { shape: readonly number[]; data: Float32Array }> | null, trainerState: unknown): void {
    const s = trainerState as Partial<TrainerState> | null;
    if (!optimizer || !s || typeof s.step !== 'number') throw new Error('sft: the checkpoint has no optimizer or trainer state to resume from');
    tf.tidy(() => this.optimizer.load(optimizer, s.step as number));
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}

/**
 * Pretraining documents from a dataset file with a `text` column (.jsonl, .arrow,
 * .arrows, .parquet), as pairs with an empty prompt: the loss counts every token.
 */
export async function collectTexts(source: string): Promise<SFTExample[]> {
  const out: SFTExample[] = [];
  let row = 0;
  for await (const r of readRows(source)) {
    row++;
    if (typeof r.text !== 'string') throw new Error(`${source} row ${row}: needs a string 'text' column (found: ${Object.keys(r).join(', ')})`);
    if (r.text.length > 0) out.push({ prompt: '', completion: r.text });
  }
  if (out.length === 0) throw new Error(`${source} has no non-empty text rows`);
  return out;
}

/** Renders chat messages, opening the assistant's turn or not: a model's chat template (`ChatTemplate`). */
export interface ChatRenderer {
  render(messages: readonly ChatMessage[], addGenerationPrompt?: boolean): string;
}

/**
 * A conversational training pair (TRL's formats): `prompt` turns then `completion`
 * turns. The prompt is the prompt turns rendered with the assistant's turn opened; the
 * completion is what the whole conversation adds to it, so the loss falls on the
 * completion turns only. Rendered by the model's chat template when it has one
 * (`chat`), else ChatML.
 */
export function chatExample(prompt: readonly ChatMessage[], completion: readonly ChatMessage[], where: string, chat?: ChatRenderer | null): SFTExample {
  if (!chat) return { prompt: renderChatML(prompt), completion: completion.map((m, i) => `${i > 0 ? `<|im_start|>${m.role}\n` : ''}${m.content}<|im_end|>${i < completion.length - 1 ? '\n' : ''}`).join('') };
  const head = chat.render(prompt, true);
  const whole = chat.render([...prompt, ...completion], false);
  if (!whole.startsWith(head)) throw new Error(`${where}: the chat template renders the conversation so that it does not begin with its prompt (the prompt turns with the assistant's turn opened), so no completion can be cut from it`);
  return { prompt: head, completion: whole.slice(head.length) };
}

/** Chat turns from a row's column, with the row in any error. */
function turns(value: unknown, column: string, where: string): ChatMessage[] {
  try {
    return chatMessages(value, column);
  } catch (e) {
    throw new Error(`${where}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * A `messages` row (TRL's conversational format): every turn before the last is the
 * prompt; the last, an assistant turn, is the completion. Loss falls on that last turn only.
 */
export function messagesExample(value: unknown, where: string, chat?: ChatRenderer | null): SFTExample {
  const messages = turns(value, 'messages', where);
  const last = messages[messages.length - 1] as ChatMessage;
  if (last.role !== 'assistant' || messages.length < 2) throw new Error(`${where}: 'messages' must end with an assistant turn after at least one other (found roles: ${messages.map((m) => m.role).join(', ')})`);
  return chatExample(messages.slice(0, -1), [last], where, chat);
}

/**
 * Collects training pairs from any (async) iterable, such as a live traces stage, or
 * from a dataset file (a traces .arrow/.arrows, .jsonl, .parquet) in TRL's layouts:
 * string `prompt` and `completion` columns; a `messages` chat list; or conversational
 * `prompt` and `completion` chat lists. Chat rows are rendered by `chat` (the model's
 * template) when given, else ChatML.
 */
export async function collectExamples(source: AsyncIterable<SFTExample> | Iterable<SFTExample> | string, chat?: ChatRenderer | null): Promise<SFTExample[]> {
  if (typeof source !== 'string') {
    const all: SFTExample[] = [];
    for await (const e of source) all.push(e);
    return all;
  }
  const out: SFTExample[] = [];
  let row = 0;
  for await (const r of readRows(source)) {
    row++;
    const where = `${source} row ${row}`;
    if (r.messages !== undefined && r.prompt === undefined) out.push(messagesExample(r.messages, where, chat));
    else if (Array.isArray(r.prompt) && Array.isArray(r.completion)) out.push(chatExample(turns(r.prompt, 'prompt', where), turns(r.completion, 'completion', where), where, chat));
    else if (typeof r.prompt === 'string' && typeof r.completion === 'string') out.push({ prompt: r.prompt, completion: r.completion });
    else throw new Error(`${where}: needs string 'prompt' and 'completion' columns, a 'messages' chat list, or 'prompt' and 'completion' chat lists (found: ${Object.keys(r).join(', ')})`);
  }
  if (out.length === 0) throw new Error(`${source} has no rows`);
  return out;
}

/** Holds out a seeded `fraction` of `examples` (at least one when the fraction is above 0) for held-out loss. */
export function splitHeldOut<T>(examples: readonly T[], fraction: number, seed: number): { train: T[]; held: T[] } {
  if (fraction <= 0) return { train: [...examples], held: [] };
  const order = new Rng(seed).shuffle([...examples.keys()]);
  const held = new Set(order.slice(0, Math.max(1, Math.round(examples.length * fraction))));
  return { train: examples.filter((_, i) => !held.has(i)), held: examples.filter((_, i) => held.has(i)) };
}
