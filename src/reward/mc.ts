/**
 * Multiple choice (MMLU-Pro style, options A–J). The chosen letter is read, in order of
 * trust, from the last `\boxed{X}`, then the last `<answer>X</answer>`, then the last
 * standalone capital A–J ("the answer is (C)").
 *
 * Option `read` says how far down that list to go: `any` (the default: all three, and
 * a boxed option's text as in `option`), `tagged` (boxed or answer tags only) or `boxed`. Use a strict one for RL when the
 * prompt asks for a tag: a policy learns to game the last-letter fallback by scattering
 * letters through its text (results/LAB.md, replication v3). `option` reads the last
 * `\boxed{}` only, and takes either a letter or one option's text (`\boxed{white}`,
 * matched against the row's `options` without regard to case or spacing): for prompts
 * that ask for the option itself, which a small model can answer without finding its
 * letter (results/LAB.md, probe 27).
 */
import { extractAnswerBlock } from '../kk/parse-answer.js';
import { lastBoxed } from './math.js';
import { checkOptionNames, choiceOption, groundTruth, makeResult, numberOption, type RewardModule, type RewardOptions, type RewardResult, type RewardSample } from './types.js';

const LETTER = /^\s*(?:\\text\{)?\(?([A-J])\)?(?:\})?\s*(?:[.:)]|$)/;

/** Where `extractChoice` may read the letter: every place, the tags only, `\boxed{}` only, or `\boxed{}` holding a letter or an option's text. */
export const CHOICE_READS = ['any', 'tagged', 'boxed', 'option'] as const;
export type ChoiceRead = (typeof CHOICE_READS)[number];
const WHERE: Record<ChoiceRead, string> = { any: '', tagged: ' in \\boxed{} or <answer>', boxed: ' in \\boxed{}', option: " in \\boxed{} (a letter or an option's text)" };
const LETTERS = 'ABCDEFGHIJ';
const normalise = (s: string): string => s.trim().replace(/\s+/g, ' ').toLowerCase();

/**
 * The letter a completion chooses, and where it was found; null if none (within `read`).
 * With `read: 'option'` or `'any'`, `options` (the row's option texts, in letter order) lets a
 * boxed option text stand for its letter.
 */
export function extractChoice(completion: string, read: ChoiceRead = 'any', options: readonly string[] = []): { letter: string; from: 'boxed' | 'answer' | 'text' } | null {
  const boxed = lastBoxed(completion);
  const b = boxed === null ? null : LETTER.exec(boxed);
  if (b) return { letter: b[1] as string, from: 'boxed' };
  if (read === 'option' || read === 'any') {
    const i = boxed === null ? -1 : options.findIndex((o) => normalise(o) === normalise(boxed));
    if (i >= 0 && i < LETTERS.length) return { letter: LETTERS[i] as string, from: 'boxed' };
    if (read === 'option') return null;
  }
  if (read === 'boxed') return null;
  const block = extractAnswerBlock(completion);
  const a = block.ok ? LETTER.exec(block.answer) : null;
  if (a) return { letter: a[1] as string, from: 'answer' };
  if (read === 'tagged') return null;
  const all = [...completion.matchAll(/(?<![A-Za-z])\(?([A-J])\)?(?![A-Za-z])/g)];
  const last = all[all.length - 1];
  return last ? { letter: last[1] as string, from: 'text' } : null;
}

/** The reference letter of a row: `answer` as a letter, `answer_index` (0 = A), or verl's `reward_model.ground_truth` letter. */
export function choiceReference(row: Readonly<Record<string, unknown>>): string | null {
  if (typeof row.answer === 'string' && /^[A-J]$/.test(row.answer.trim())) return row.answer.trim();
  if (typeof row.answer_index === 'number' && row.answer_index >= 0 && row.answer_index < 10) return LETTERS[row.answer_index] as string;
  const truth = groundTruth(row);
  return typeof truth === 'string' && /^[A-J]$/.test(truth.trim()) ? truth.trim() : null;
}

/** The options, checked (`checkOptions`); a bad one throws `RewardOptionError`. */
function mcOptions(options: RewardOptions): { correct: number; wrong: number; read: ChoiceRead } {
  checkOptionNames('mc', options, ['correct', 'wrong', 'read']);
  return { correct: numberOption('mc', options, 'correct', 1), wrong: numberOption('mc', options, 'wrong', 0), read: choiceOption('mc', options, 'read', CHOICE_READS, 'any') };
}

export function scoreChoice(sample: RewardSample, options: RewardOptions = {}): RewardResult {
  const { correct, wrong, read } = mcOptions(options);
  const reference = choiceReference(sample.row);
  if (reference === null) return makeResult('unscorable', null, 'the row has no answer letter (answer or answer_index)');
  const listed = sample.row.options;
  const texts: readonly string[] = Array.isArray(listed) && listed.every((o) => typeof o === 'string') ? listed : [];
  if (read === 'option' && texts.length === 0) return makeResult('unscorable', null, "read 'option' needs the row's options as a list of strings");
  const choice = extractChoice(sample.completion, read, texts);
  if (choice === null) return makeResult('format_error', wrong, `no answer letter A–J found${WHERE[read]}`, { answer: wrong });
  const ok = choice.letter === reference;
  return makeResult(ok ? 'ok' : 'wrong', ok ? correct : wrong, ok ? null : `chose ${choice.letter} (from ${choice.from}), answer is ${reference}`, {
    answer: ok ? correct : wrong,
  });
}

export const mcReward: RewardModule = {
  id: 'mc',
  description: "multiple choice A–J from \\boxed{}, <answer> or the last standalone letter; options {correct, wrong, read: any|tagged|boxed|option (boxed letter or option's text)}",
  score: scoreChoice,
  checkOptions: mcOptions,
};
