/** The K&K text the embedded tokenizer is trained on: quizzes, solutions and a trace's phrases. */
import { generatePuzzles } from './generator.js';

/** Reasoning phrases a K&K trace uses, so they become few tokens. */
const TRACE_PHRASES = [
  "Let's think step by step.", 'Suppose', 'Assume', 'is telling the truth', 'is lying', 'then', 'which means', 'therefore', 'so',
  'This contradicts', 'contradiction', 'Wait,', 'that contradicts', 'Let me check', 'Let me re-check', 'verify', 'statement', 'holds',
  'is consistent', 'is true', 'is false', 'must be', 'cannot be', 'Case', 'Both', 'Either', 'Neither', 'Checking every statement:',
  'A conversation between User and Assistant.', 'The user asks a question, and the Assistant solves it.',
  'User:', 'Assistant:', '<think>', '</think>', '<answer>', '</answer>', '\\boxed{', '0123456789',
];

/** The deterministic training text of the embedded tokenizer (src/model/default-tokenizer.ts). */
export function* kkTokenizerCorpus(): Generator<string> {
  for (const p of generatePuzzles({ people: [3, 4, 5, 6, 7, 8], count: 3000, seed: 20251121 })) {
    yield p.quiz;
    yield `<think>${p.solutionText}</think>\n<answer>${p.solutionTextFormat}</answer>`;
  }
  for (let i = 0; i < 50; i++) yield TRACE_PHRASES.join(' ');
}
