/**
 * The embedded tokenizer: byte-level BPE trained on warmup's own K&K text, shipped as
 * `data/tokenizer/warmup-bpe-1024.json` so every run uses the same ids.
 * `kkTokenizerCorpus()` (src/kk/corpus.ts) + `trainByteBpe` rebuild it deterministically
 * (`warmup tokenizer train`).
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { ByteBpeTokenizer } from './tokenizer.js';

export const DEFAULT_TOKENIZER_PATH = fileURLToPath(new URL('../../data/tokenizer/warmup-bpe-1024.json', import.meta.url));
export const DEFAULT_VOCAB = 1024;

let cached: Promise<ByteBpeTokenizer> | null = null;

/** The shipped tokenizer. */
export function loadDefaultTokenizer(): Promise<ByteBpeTokenizer> {
  return (cached ??= readFile(DEFAULT_TOKENIZER_PATH, 'utf8').then(
    (text) => ByteBpeTokenizer.fromJSON(JSON.parse(text)),
    (e: unknown) => {
      throw new Error(`the embedded tokenizer ${DEFAULT_TOKENIZER_PATH} is missing: run 'warmup tokenizer train' (${(e as Error).message})`, { cause: e });
    },
  ));
}
