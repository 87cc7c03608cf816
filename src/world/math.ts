/**
 * Arithmetic word problems: a person's count of things changes over 1–3 steps (gains,
 * losses, a doubling), and the question asks for the final count. The answer is a
 * non-negative integer, written `\boxed{N}` and scored by the math reward.
 *
 * Difficulty is the number of steps and the size of the numbers: one step with small
 * numbers is a lookup a small base model learns from its corpus; three steps is a
 * computation it cannot do in one token without writing intermediate results.
 */
import type { Rng } from '../util/rng.js';
import { NAMES, THINGS } from './vocab.js';

/** One problem, in the MATH layout (`problem`, `answer`) plus its subset labels. */
export interface MathItem {
  readonly problem: string;
  readonly answer: string;
  /** Number of steps after the start: 1–3. */
  readonly steps: number;
}

type Step = { readonly text: (n: number, who: string, other: string, thing: string) => string; readonly apply: (count: number, n: number) => number; readonly range: (count: number) => [number, number] };

const GAINS: readonly Step[] = [
  { text: (n, who, _o, t) => `${who} buys ${n} more ${t}.`, apply: (c, n) => c + n, range: () => [1, 9] },
  { text: (n, who, _o, t) => `${who} finds ${n} more ${t}.`, apply: (c, n) => c + n, range: () => [1, 9] },
  { text: (n, who, o, t) => `${o} gives ${who} ${n} ${t}.`, apply: (c, n) => c + n, range: () => [1, 9] },
];
const LOSSES: readonly Step[] = [
  { text: (n, who, o, t) => `${who} gives ${n} ${t} to ${o}.`, apply: (c, n) => c - n, range: (c) => [1, Math.min(9, c)] },
  { text: (n, who, _o, t) => `${who} loses ${n} ${t}.`, apply: (c, n) => c - n, range: (c) => [1, Math.min(9, c)] },
];
const DOUBLE: Step = { text: (_n, who, _o, t) => `${who} doubles the number of ${t}.`, apply: (c) => 2 * c, range: () => [0, 0] };

/** A word problem with `steps` changes (1–3). */
export function makeMathItem(rng: Rng, steps = 1 + rng.int(3)): MathItem {
  const [who, other] = rng.sample(NAMES, 2) as [string, string];
  const thing = rng.pick(THINGS);
  let count = 2 + rng.int(11);
  const sentences = [`${who} has ${count} ${thing}.`];
  for (let s = 0; s < steps; s++) {
    const kind = rng.float();
    const step = kind < 0.45 || count < 2 ? rng.pick(GAINS) : kind < 0.9 || count > 20 ? rng.pick(LOSSES) : DOUBLE;
    const [lo, hi] = step.range(count);
    const n = lo + rng.int(hi - lo + 1);
    sentences.push(step.text(n, who, other, thing));
    count = step.apply(count, n);
  }
  return { problem: `${sentences.join(' ')} How many ${thing} does ${who} have now?`, answer: String(count), steps };
}

/** Plain text for the corpus: one arithmetic fact ("7 plus 5 is 12."), the kind of fact a worked answer would use. */
export function makeArithmeticFact(rng: Rng): string {
  const a = rng.int(21);
  const b = 1 + rng.int(9);
  const r = rng.float();
  if (r < 0.45) return `${a} plus ${b} is ${a + b}.`;
  if (r < 0.9) return `${a + b} minus ${b} is ${a}.`;
  return `Two times ${a} is ${2 * a}.`;
}
