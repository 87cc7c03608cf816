/**
 * Re-checks a recorded puzzle from its text alone: parse the quiz, solve it, and
 * compare with the recorded solution. This is how `warmup kk solve` audits any K&K
 * dataset, warmup's own or a published one.
 */
import { parseQuiz, QuizParseError } from './parse-quiz.js';
import { solve } from './solver.js';
import type { RolePair } from './names.js';

/** What is known about a record before checking it. */
export interface RecordToCheck {
  readonly id: string;
  readonly quiz: string;
  /** Recorded names; when given they must match the quiz's intro. */
  readonly names?: readonly string[];
  readonly solution?: readonly boolean[];
  readonly roles?: RolePair;
}

/** The verdict on one record. */
export interface CheckResult {
  readonly id: string;
  readonly parsed: boolean;
  /** The quiz has exactly one consistent assignment. */
  readonly unique: boolean;
  /** Unique, and equal to the recorded solution. */
  readonly agree: boolean;
  readonly solutions: number;
  /** Why it does not agree; null when it does. */
  readonly reason: string | null;
}

/** Parses, solves and compares one record. Never throws for bad quiz text: the reason says what failed. */
export function checkRecord(record: RecordToCheck): CheckResult {
  const base = { id: record.id, parsed: false, unique: false, agree: false, solutions: 0 };
  let parsed;
  try {
    parsed = parseQuiz(record.quiz, record.roles ? { roles: record.roles } : {});
  } catch (e) {
    if (e instanceof QuizParseError) return { ...base, reason: `parse: ${e.message}` };
    throw e;
  }
  const n = parsed.names.length;
  if (record.names && record.names.join('\u0000') !== parsed.names.join('\u0000')) {
    return { ...base, parsed: true, reason: `names: quiz lists ${parsed.names.join(', ')} but the record has ${record.names.join(', ')}` };
  }
  const solutions = solve(n, parsed.statements, 2);
  const count = solutions.length;
  const unique = count === 1;
  if (!unique) {
    return { ...base, parsed: true, solutions: count, reason: count === 0 ? 'no consistent assignment' : 'more than one consistent assignment' };
  }
  const found = solutions[0] as boolean[];
  if (!record.solution) return { ...base, parsed: true, unique, solutions: 1, agree: false, reason: 'no recorded solution to compare with' };
  const agree = found.length === record.solution.length && found.every((v, i) => v === record.solution?.[i]);
  const show = (s: readonly boolean[]): string => s.map((k) => (k ? 'T' : 'F')).join('');
  return {
    ...base,
    parsed: true,
    unique,
    solutions: 1,
    agree,
    reason: agree ? null : `solver finds ${show(found)} but the record says ${show(record.solution)} (T = truthful)`,
  };
}
