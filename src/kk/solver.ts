/**
 * Exact Knights & Knaves solver.
 *
 * Evaluates every statement over all 2^N assignments at once, 32 assignments per
 * machine word: assignment `a` (bit i set = person i is a knight) lives at bit `a % 32`
 * of word `a >> 5`. A consistent assignment makes each person's statement true exactly
 * when that person is a knight, so the solution set is AND_i (K_i XNOR S_i). Puzzles of
 * up to 5 people fit in one word and allocate nothing.
 */
import type { Statement } from './statement.js';

/** The largest puzzle the solver accepts: 2^24 assignments is 2 MiB of bitset words. */
export const MAX_SOLVER_PEOPLE = 24;

// Bit patterns of "person i is a knight" inside one 32-assignment word, for i < 5.
const IN_WORD = [0xaaaaaaaa | 0, 0xcccccccc | 0, 0xf0f0f0f0 | 0, 0xff00ff00 | 0, 0xffff0000 | 0] as const;

function leafWord(who: number, word: number): number {
  if (who < 5) return IN_WORD[who as 0 | 1 | 2 | 3 | 4];
  return (word >>> (who - 5)) & 1 ? -1 : 0;
}

/** The truth table of `s` over the 32 assignments of word `word`, as an int32. */
function evalWord(s: Statement, word: number): number {
  switch (s.op) {
    case 'knight':
      return leafWord(s.who, word);
    case 'knave':
      return ~leafWord(s.who, word);
    case 'not':
      return ~evalWord(s.arg, word);
    case 'and': {
      let acc = -1;
      for (const a of s.args) acc &= evalWord(a, word);
      return acc;
    }
    case 'or': {
      let acc = 0;
      for (const a of s.args) acc |= evalWord(a, word);
      return acc;
    }
    case 'implies':
      return ~evalWord(s.args[0], word) | evalWord(s.args[1], word);
    case 'iff':
      return ~(evalWord(s.args[0], word) ^ evalWord(s.args[1], word));
  }
}

function checkSize(n: number, statements: readonly Statement[]): void {
  if (!Number.isInteger(n) || n < 1 || n > MAX_SOLVER_PEOPLE) {
    throw new RangeError(`the solver takes 1..${MAX_SOLVER_PEOPLE} people, got ${n}`);
  }
  if (statements.length !== n) {
    throw new RangeError(`expected one statement per person (${n}), got ${statements.length}`);
  }
}

/** The consistent assignments inside word `word`, as an int32 bitmask. */
function consistentWord(n: number, statements: readonly Statement[], word: number): number {
  let acc = n < 5 ? (1 << (1 << n)) - 1 : -1;
  for (let i = 0; i < n && acc !== 0; i++) {
    acc &= ~(leafWord(i, word) ^ evalWord(statements[i] as Statement, word));
  }
  return acc;
}

function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/**
 * Counts consistent assignments, up to `stopAt` (uniqueness checks pass 2, so they
 * stop scanning once a second solution turns up).
 */
export function countSolutions(n: number, statements: readonly Statement[], stopAt = Infinity): number {
  checkSize(n, statements);
  const words = n <= 5 ? 1 : 1 << (n - 5);
  let count = 0;
  for (let w = 0; w < words && count < stopAt; w++) count += popcount32(consistentWord(n, statements, w));
  return Math.min(count, stopAt);
}

/** Every consistent assignment, in increasing assignment order; `knights[i]` per person. */
export function solve(n: number, statements: readonly Statement[], limit = Infinity): boolean[][] {
  checkSize(n, statements);
  const words = n <= 5 ? 1 : 1 << (n - 5);
  const out: boolean[][] = [];
  for (let w = 0; w < words && out.length < limit; w++) {
    let bits = consistentWord(n, statements, w);
    while (bits !== 0 && out.length < limit) {
      const b = 31 - Math.clz32(bits & -bits);
      bits &= bits - 1;
      const a = w * 32 + b;
      out.push(Array.from({ length: n }, (_, i) => ((a >>> i) & 1) === 1));
    }
  }
  return out;
}

/** The single solution, or null when the puzzle has none or several. */
export function uniqueSolution(n: number, statements: readonly Statement[]): boolean[] | null {
  const sols = solve(n, statements, 2);
  return sols.length === 1 ? (sols[0] ?? null) : null;
}
