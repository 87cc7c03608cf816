/**
 * The embedded tokenizer: byte-level BPE trained on warmup's own K&K text, shipped as
 * `data/tokenizer/warmup-bpe-1024.json` so every run uses the same ids.
 * `defaultCorpus()` + `trainByteBpe` rebuild it deterministically
 * (`warmup tokenizer train`).
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { generatePuzzles } from '../kk/generator.js';
import { ByteBpeTokenizer } from './tokenizer.js';

export const DEFAULT_TOKENIZER_PATH = fileURLToPath(new URL('../../data/tokenizer/warmup-bpe-1024.json', import.meta.url));
export const DEFAULT_VOCAB = 1024;

/** Reasoning phrases a K&K trace uses, so they become few tokens. */
const TRACE_PHRASES = [
  "Let's think step by step.", 'Suppose', 'Assume', 'is telling the truth', 'is lying', 'then', 'which means', 'therefore', 'so',
  'This contradicts', 'contradiction', 'Wait,', 'that contradicts', 'Let me check', 'Let me re-check', 'verify', 'statement', 'holds',
  'is consistent', 'is true', 'is false', 'must be', 'cannot be', 'Case', 'Both', 'Either', 'Neither', 'Checking every statement:',
  'A conversation between User and Assistant.', 'The user asks a question, and the Assistant solves it.',
  'User:', 'Assistant:', '<think>', '</think>', '<answer>', '</answer>', '\\boxed{', '0123456789',
];

/** The deterministic training text of the embedded tokenizer. */
export function* defaultCorpus(): Generator<string> {
  for (const p of generatePuzzles({ people: [3, 4, 5, 6, 7, 8], count: 3000, seed: 20251121 })) {
    yield p.quiz;
    yield `<think>${p.solutionText}</think>\n<answer>${p.solutionTextFormat}</answer>`;
  }
  for (let i = 0; i < 50; i++) yield TRACE_PHRASES.join(' ');
}

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
