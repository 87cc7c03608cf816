/**
 * Knights & Knaves rewards, two schemes over one format checker and one answer parser:
 *
 * - `paper` (Shrestha et al. 2025): a format gate of −2; then +2 for a correct answer
 *   and −0.5 for a wrong one.
 * - `logic-rl` (Logic-RL, Xie et al. 2025): format ±1, plus +2 for a correct answer,
 *   −1.5 for a wrong one and −2 when there is no readable answer.
 *
 * Ground truth comes from the row: `names` + `solution` (+ `roles`), or the
 * `solution_text_format` lines ("(1) Zoey is a knight") that Logic-RL keeps.
 */
import { parseAnswer } from '../kk/parse-answer.js';
import { ROLE_PAIRS, type RolePair } from '../kk/names.js';
import { checkThinkAnswer } from './format.js';
import { checkOptionNames, choiceOption, groundTruth, makeResult, type RewardModule, type RewardOptions, type RewardResult, type RewardSample } from './types.js';

export const KK_SCHEMES = ['paper', 'logic-rl'] as const;
export type KKScheme = (typeof KK_SCHEMES)[number];

/** What a K&K row must provide. */
export interface KKTruth {
  readonly names: string[];
  readonly solution: boolean[];
  readonly roles: RolePair;
}

function rolesOf(row: Readonly<Record<string, unknown>>): RolePair {
  const r = row.roles;
  if (Array.isArray(r) && r.length === 2 && r.every((x) => typeof x === 'string')) {
    return { truthful: r[0] as string, liar: r[1] as string };
  }
  return ROLE_PAIRS.knights;
}

/** Reads the ground truth of a K&K row, or returns why it cannot. */
export function kkTruth(row: Readonly<Record<string, unknown>>): KKTruth | string {
  const roles = rolesOf(row);
  const { names, solution } = row;
  if (Array.isArray(names) && Array.isArray(solution) && names.length === solution.length && names.length > 0) {
    return { names: names.map(String), solution: solution.map((v) => v === true), roles };
  }
  // verl: Logic-RL's ground truth is an object holding solution_text_format; a mixed
  // verl file, whose ground_truth column is a string for every source, holds that text.
  const nested = groundTruth(row);
  const text = row.solution_text_format ?? (typeof nested === 'string' ? nested : (nested as { solution_text_format?: unknown } | undefined)?.solution_text_format);
  if (typeof text === 'string') {
    const lines = [...text.matchAll(/\(\d+\)\s*(.+?)\s+is\s+an?\s+([\p{L}-]+)/gu)];
    if (lines.length > 0) {
      const liar = roles.liar.toLowerCase();
      return {
        names: lines.map((m) => m[1] as string),
        solution: lines.map((m) => (m[2] as string).toLowerCase() !== liar),
        roles,
      };
    }
  }
  return 'the row has no K&K ground truth (names + solution, or solution_text_format)';
}

/** The options, checked (`checkOptions`); a bad one throws `RewardOptionError`. */
function kkScheme(options: RewardOptions): KKScheme {
  checkOptionNames('kk', options, ['scheme']);
  return choiceOption('kk', options, 'scheme', KK_SCHEMES, 'paper');
}

/** Scores one completion against a K&K row. */
export function scoreKK(sample: RewardSample, options: RewardOptions = {}): RewardResult {
  const scheme = kkScheme(options);
  const truth = kkTruth(sample.row);
  if (typeof truth === 'string') return makeResult('unscorable', null, truth);
  const format = checkThinkAnswer(sample.prompt, sample.completion);
  const formatScore = scheme === 'paper' ? (format.ok ? 0 : -2) : format.ok ? 1 : -1;
  if (!format.ok) {
    const answer = scheme === 'paper' ? null : -2;
    return makeResult('format_error', formatScore + (answer ?? 0), `format: ${format.reason}`, { format: formatScore, answer });
  }
  const parsed = parseAnswer(`<answer>${format.answer}</answer>`, truth.names, truth.roles);
  if (!parsed.ok) {
    // An unreadable answer fails the format gate (paper) or scores −2 (Logic-RL).
    return makeResult('format_error', formatScore - 2, `answer: ${parsed.reason}`, { format: formatScore, answer: -2 });
  }
  const correct = parsed.assignment.every((v, i) => v === truth.solution[i]);
  const answer = correct ? 2 : scheme === 'paper' ? -0.5 : -1.5;
  const wrongAt = truth.names.filter((_, i) => parsed.assignment[i] !== truth.solution[i]);
  return makeResult(correct ? 'ok' : 'wrong', formatScore + answer, correct ? null : `wrong about ${wrongAt.join(', ')}`, {
    format: formatScore,
    answer,
  });
}

export const kkReward: RewardModule = {
  id: 'kk',
  description: 'Knights & Knaves: <think>/<answer> format and the assignment; options {scheme: "paper" | "logic-rl"}',
  score: scoreKK,
  checkOptions: kkScheme,
};
