/**
 * Tokenizers behind one interface.
 *
 * - `ByteBpeTokenizer`: byte-level BPE (the GPT-2 / Qwen2 scheme) trained by
 *   `trainByteBpe` on the project's own corpus for the embedded student. Every string
 *   is bytes first, so no text is ever lost: `decode(encode(x)) === x` for any Unicode.
 *   It exports a standard Hugging Face `tokenizer.json`, so checkpoints carry it in
 *   the usual layout.
 * - `HFTokenizer`: any Hugging Face `tokenizer.json`, through `@huggingface/tokenizers`.
 *
 * Special tokens: `<|endoftext|>` (end of sequence and padding), and the chat markers
 * `<|im_start|>` / `<|im_end|>` of the Qwen/ChatML templates. `<think>`, `</think>`,
 * `<answer>` and `</answer>` are single tokens too, so K&K traces stay short.
 */
import { Tokenizer as HFTokenizerClass } from '@huggingface/tokenizers';
import { escapeRegExp } from '../util/text.js';

/** The part of @huggingface/tokenizers' Tokenizer used here. */
interface HFCore {
  encode(text: string, options: { add_special_tokens: boolean }): { ids: number[] };
  decode(ids: number[], options: { skip_special_tokens: boolean }): string;
}
const HFCoreCtor = HFTokenizerClass as unknown as new (json: object, config: object) => HFCore;

/** The tokenizer contract used by the model, the trainer and the sampler. */
export interface Tokenizer {
  readonly vocabSize: number;
  /** End of sequence; also used as padding and as the start marker where one is needed. */
  readonly eos: number;
  readonly pad: number;
  readonly bos: number;
  /** Ids of the special and added tokens by text. */
  readonly special: Readonly<Record<string, number>>;
  encode(text: string): number[];
  decode(ids: readonly number[], options?: { skipSpecial?: boolean }): string;
  /** The Hugging Face `tokenizer.json` object. */
  toJSON(): object;
  /** The folder's Jinja chat template (from `tokenizer_config.json`), kept when the checkpoint is saved again. */
  chatTemplate?: string;
}

/** The text of special token `id` (e.g. its eos), or undefined when `id` is no special token. */
export const specialText = (tokenizer: Tokenizer, id: number): string | undefined => Object.entries(tokenizer.special).find(([, v]) => v === id)?.[0];

export const EOS_TOKEN = '<|endoftext|>';
export const CHAT_TOKENS = ['<|im_start|>', '<|im_end|>'] as const;
export const TAG_TOKENS = ['<think>', '</think>', '<answer>', '</answer>'] as const;
/** Special tokens (never split, skipped on request) and added tokens (plain text that is one id). */
export const DEFAULT_SPECIALS = [EOS_TOKEN, ...CHAT_TOKENS] as const;
export const DEFAULT_ADDED = TAG_TOKENS;

/** GPT-2's pre-tokenizer: contractions, words with a leading space, numbers, punctuation, spaces. */
const PRETOKENIZE = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** GPT-2's byte → printable character table, so BPE symbols are strings. */
const BYTE_TO_CHAR: string[] = (() => {
  const keep: number[] = [];
  for (let b = 33; b <= 126; b++) keep.push(b);
  for (let b = 161; b <= 172; b++) keep.push(b);
  for (let b = 174; b <= 255; b++) keep.push(b);
  const table: string[] = new Array<string>(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) table[b] = String.fromCharCode(keep.includes(b) ? b : 256 + extra++);
  return table;
})();
const CHAR_TO_BYTE = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8');

const toSymbols = (chunk: string): string[] => Array.from(utf8.encode(chunk), (b) => BYTE_TO_CHAR[b] as string);


/** Byte-level BPE with learned merges. */
export class ByteBpeTokenizer implements Tokenizer {
  chatTemplate?: string;
  readonly vocabSize: number;
  readonly eos: number;
  readonly pad: number;
  readonly bos: number;
  readonly special: Readonly<Record<string, number>>;
  private readonly vocab = new Map<string, number>();
  private readonly idToToken: string[] = [];
  private readonly ranks = new Map<string, number>();
  private readonly cache = new Map<string, number[]>();
  private readonly addedRe: RegExp;
  private readonly specialIds: Set<number>;

  constructor(
    readonly merges: readonly (readonly [string, string])[],
    readonly specials: readonly string[] = DEFAULT_SPECIALS,
    readonly added: readonly string[] = DEFAULT_ADDED,
  ) {
    for (const c of BYTE_TO_CHAR) this.addToken(c);
    merges.forEach(([a, b], i) => {
      this.ranks.set(`${a} ${b}`, i);
      this.addToken(a + b);
    });
    for (const s of [...specials, ...added]) this.addToken(s);
    this.vocabSize = this.idToToken.length;
    this.special = Object.fromEntries([...specials, ...added].map((s) => [s, this.vocab.get(s) as number]));
    this.eos = this.vocab.get(EOS_TOKEN) ?? this.vocabSize - 1;
    this.pad = this.eos;
    this.bos = this.eos;
    this.specialIds = new Set(specials.map((s) => this.vocab.get(s) as number));
    const all = [...specials, ...added].sort((a, b) => b.length - a.length).map(escapeRegExp);
    this.addedRe = new RegExp(all.length > 0 ? `(${all.join('|')})` : '(?!)', 'g');
  }

  private addToken(t: string): void {
    if (this.vocab.has(t)) return;
    this.vocab.set(t, this.idToToken.length);
    this.idToToken.push(t);
  }

  private bpe(chunk: string): number[] {
    const hit = this.cache.get(chunk);
    if (hit) return hit;
    let symbols = toSymbols(chunk);
    while (symbols.length > 1) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i < symbols.length - 1; i++) {
        const r = this.ranks.get(`${symbols[i]} ${symbols[i + 1]}`);
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) break;
      const a = symbols[best] as string;
      const b = symbols[best + 1] as string;
      const next: string[] = [];
      for (let i = 0; i < symbols.length; i++) {
        if (i < symbols.length - 1 && symbols[i] === a && symbols[i + 1] === b) {
          next.push(a + b);
          i++;
        } else next.push(symbols[i] as string);
      }
      symbols = next;
    }
    const ids = symbols.map((s) => this.vocab.get(s) as number);
    if (this.cache.size < 100_000) this.cache.set(chunk, ids);
    return ids;
  }

  encode(text: string): number[] {
    const out: number[] = [];
    for (const part of text.split(this.addedRe)) {
      if (part === '') continue;
      if (Object.hasOwn(this.special, part)) {
        out.push(this.special[part] as number);
        continue;
      }
      for (const m of part.matchAll(PRETOKENIZE)) out.push(...this.bpe(m[0]));
    }
    return out;
  }

  decode(ids: readonly number[], options: { skipSpecial?: boolean } = {}): string {
    let bytes: number[] = [];
    let text = '';
    const flush = (): void => {
      if (bytes.length > 0) text += fromUtf8.decode(new Uint8Array(bytes));
      bytes = [];
    };
    for (const id of ids) {
      const tok = this.idToToken[id];
      if (tok === undefined) throw new RangeError(`token id ${id} is outside the vocabulary (size ${this.vocabSize})`);
      if (this.specialIds.has(id) || this.added.includes(tok)) {
        flush();
        if (!(options.skipSpecial && this.specialIds.has(id))) text += tok;
        continue;
      }
      for (const ch of tok) bytes.push(CHAR_TO_BYTE.get(ch) as number);
    }
    flush();
    return text;
  }

  toJSON(): object {
    return {
      version: '1.0',
      warmup: { tokenizer: 'byte-bpe', version: 1 },
      truncation: null,
      padding: null,
      added_tokens: [...this.specials, ...this.added].map((content) => ({
        id: this.vocab.get(content),
        content,
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: false,
        special: this.specials.includes(content),
      })),
      normalizer: null,
      pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
      post_processor: null,
      decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
      model: {
        type: 'BPE',
        dropout: null,
        unk_token: null,
        continuing_subword_prefix: null,
        end_of_word_suffix: null,
        fuse_unk: false,
        byte_fallback: false,
        vocab: Object.fromEntries(this.idToToken.map((t, i) => [t, i])),
        merges: this.merges.map(([a, b]) => `${a} ${b}`),
      },
    };
  }

  /** Rebuilds a tokenizer from `toJSON()` output (a byte-level BPE tokenizer.json). */
  static fromJSON(json: unknown): ByteBpeTokenizer {
    const j = json as { model?: { type?: string; merges?: (string | [string, string])[] }; added_tokens?: { content: string; special: boolean }[] };
    if (j.model?.type !== 'BPE' || !Array.isArray(j.model.merges)) throw new Error('not a byte-level BPE tokenizer.json (model.type must be "BPE" with merges)');
    const merges = j.model.merges.map((m) => (Array.isArray(m) ? m : (m.split(' ') as [string, string])));
    const added = j.added_tokens ?? [];
    return new ByteBpeTokenizer(merges, added.filter((t) => t.special).map((t) => t.content), added.filter((t) => !t.special).map((t) => t.content));
  }
}

/**
 * Learns byte-level BPE merges from `texts` until the vocabulary reaches `vocabSize`
 * (256 bytes + merges + special tokens). Deterministic: ties break by the pair text.
 */
export function trainByteBpe(
  texts: Iterable<string>,
  vocabSize: number,
  specials: readonly string[] = DEFAULT_SPECIALS,
  added: readonly string[] = DEFAULT_ADDED,
): ByteBpeTokenizer {
  const reserved = 256 + specials.length + added.length;
  if (vocabSize < reserved) throw new RangeError(`vocabSize must be at least ${reserved} (bytes and special tokens), got ${vocabSize}`);
  const splitAdded = new RegExp(`(${[...specials, ...added].map(escapeRegExp).join('|')})`, 'g');
  const counts = new Map<string, number>();
  for (const text of texts) {
    for (const part of text.split(splitAdded)) {
      if ([...specials, ...added].includes(part)) continue;
      for (const m of part.matchAll(PRETOKENIZE)) counts.set(m[0], (counts.get(m[0]) ?? 0) + 1);
    }
  }
  const words = [...counts].map(([w, n]) => ({ symbols: toSymbols(w), n }));
  const merges: [string, string][] = [];
  while (merges.length < vocabSize - reserved) {
    const pairs = new Map<string, number>();
    for (const w of words) {
      for (let i = 0; i < w.symbols.length - 1; i++) {
        const key = `${w.symbols[i]} ${w.symbols[i + 1]}`;
        pairs.set(key, (pairs.get(key) ?? 0) + w.n);
      }
    }
    let best: string | null = null;
    let bestN = 1;
    for (const [k, n] of pairs) if (n > bestN || (n === bestN && best !== null && k < best)) [best, bestN] = [k, n];
    if (best === null) break; // every pair occurs once: nothing left worth merging
    const [a, b] = best.split(' ') as [string, string];
    merges.push([a, b]);
    for (const w of words) {
      const s = w.symbols;
      if (s.length < 2) continue;
      const next: string[] = [];
      for (let i = 0; i < s.length; i++) {
        if (i < s.length - 1 && s[i] === a && s[i + 1] === b) {
          next.push(a + b);
          i++;
        } else next.push(s[i] as string);
      }
      w.symbols = next;
    }
  }
  return new ByteBpeTokenizer(merges, specials, added);
}

/** A Hugging Face tokenizer.json, through @huggingface/tokenizers. */
export class HFTokenizer implements Tokenizer {
  chatTemplate?: string;
  readonly vocabSize: number;
  readonly eos: number;
  readonly pad: number;
  readonly bos: number;
  readonly special: Readonly<Record<string, number>>;
  private readonly core: HFCore;

  constructor(
    private readonly json: object,
    config: { eos_token?: string; pad_token?: string; bos_token?: string } = {},
  ) {
    this.core = new HFCoreCtor(json, config);
    const j = json as { model?: { vocab?: Record<string, number> | unknown[] }; added_tokens?: { id: number; content: string }[] };
    const added = j.added_tokens ?? [];
    this.special = Object.fromEntries(added.map((t) => [t.content, t.id]));
    const vocab = j.model?.vocab;
    const base = Array.isArray(vocab) ? vocab.length : Object.keys(vocab ?? {}).length;
    this.vocabSize = Math.max(base, ...added.map((t) => t.id + 1));
    const id = (t: string | undefined): number | undefined => (t === undefined ? undefined : (this.special[t] ?? this.core.encode(t, { add_special_tokens: false }).ids[0]));
    this.eos = id(config.eos_token) ?? this.special[EOS_TOKEN] ?? this.special['<|im_end|>'] ?? this.vocabSize - 1;
    this.pad = id(config.pad_token) ?? this.eos;
    this.bos = id(config.bos_token) ?? this.eos;
  }

  encode(text: string): number[] {
    return this.core.encode(text, { add_special_tokens: false }).ids;
  }

  decode(ids: readonly number[], options: { skipSpecial?: boolean } = {}): string {
    return this.core.decode([...ids], { skip_special_tokens: options.skipSpecial ?? false });
  }

  toJSON(): object {
    return this.json;
  }
}

/** Loads a tokenizer.json: warmup's own byte-level BPE natively, anything else through @huggingface/tokenizers. */
export function tokenizerFromJSON(json: unknown, config: { eos_token?: string; pad_token?: string; bos_token?: string } = {}): Tokenizer {
  const j = json as { pre_tokenizer?: { type?: string }; model?: { type?: string } };
  if (j.model?.type === 'BPE' && j.pre_tokenizer?.type === 'ByteLevel' && (json as { warmup?: unknown }).warmup !== undefined) {
    return ByteBpeTokenizer.fromJSON(json);
  }
  return new HFTokenizer(json as object, config);
}
