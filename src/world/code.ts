/**
 * Small Python functions described in words, in the HumanEval layout: `prompt` is the
 * signature and docstring, the model writes the body, and `test` defines
 * `check(candidate)` with asserts computed here from the same definition. Scored by the
 * code reward in the sandbox.
 *
 * A family is a chain of operations (or a predicate) and its meaning; a task draws a
 * family and its constants. A chain of two or three ("add 3, double it, then take the
 * remainder after dividing by five") needs the description read in order, and the
 * words that do not spell their Python (see OPS) need the corpus's knowledge: copying
 * the description is not enough (results/LAB.md, probe 19: a base that copies solved
 * 98% of the old, literal items).
 */
import type { Rng } from '../util/rng.js';

/** One task in the HumanEval layout. */
export interface CodeItem {
  readonly task_id: string;
  readonly prompt: string;
  readonly entry_point: string;
  readonly test: string;
  readonly canonical_solution: string;
  /** The family, e.g. `add` or `add-then-mul`. */
  readonly family: string;
}

/**
 * An integer operation: how it is said (`n` is the constant as the description writes
 * it, in digits or in words), how it is written in Python, and what it computes (as
 * Python does: `//` and `%` floor).
 */
interface Op {
  readonly id: string;
  readonly say: (n: string) => string;
  readonly python: (x: string, k: number) => string;
  readonly apply: (x: number, k: number) => number;
  readonly k: (rng: Rng) => number;
}

const small = (rng: Rng): number => 2 + rng.int(8);
const medium = (rng: Rng): number => 2 + rng.int(19);
const fixed = (k: number) => (): number => k;
/**
 * Some operations are said in words that do not spell their Python ("double it",
 * "halve it", "decrease it by seven"): a model that only copies the description cannot
 * write them; it needs to know what the words mean, which the corpus teaches.
 */
const OPS: readonly Op[] = [
  { id: 'add', say: (n) => `add ${n}`, python: (x, k) => `${x} + ${k}`, apply: (x, k) => x + k, k: medium },
  { id: 'increase', say: (n) => `increase it by ${n}`, python: (x, k) => `${x} + ${k}`, apply: (x, k) => x + k, k: medium },
  { id: 'sub', say: (n) => `subtract ${n}`, python: (x, k) => `${x} - ${k}`, apply: (x, k) => x - k, k: medium },
  { id: 'decrease', say: (n) => `decrease it by ${n}`, python: (x, k) => `${x} - ${k}`, apply: (x, k) => x - k, k: medium },
  { id: 'mul', say: (n) => `multiply by ${n}`, python: (x, k) => `${x} * ${k}`, apply: (x, k) => x * k, k: small },
  { id: 'double', say: () => 'double it', python: (x) => `${x} * 2`, apply: (x) => x * 2, k: fixed(2) },
  { id: 'triple', say: () => 'triple it', python: (x) => `${x} * 3`, apply: (x) => x * 3, k: fixed(3) },
  { id: 'halve', say: () => 'halve it, rounding down', python: (x) => `${x} // 2`, apply: (x) => Math.floor(x / 2), k: fixed(2) },
  { id: 'mod', say: (n) => `take the remainder after dividing by ${n}`, python: (x, k) => `${x} % ${k}`, apply: (x, k) => ((x % k) + k) % k, k: small },
  { id: 'square', say: () => 'square it', python: (x) => `${x} * ${x}`, apply: (x) => x * x, k: fixed(0) },
];
const NUMBER_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve', 'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen', 'twenty'];
/** A constant as a description writes it: in digits or, half the time, in words. */
const spell = (rng: Rng, k: number): string => (rng.float() < 0.5 ? NUMBER_WORDS[k] ?? String(k) : String(k));

/** Predicates on an integer, for boolean tasks. */
interface Predicate {
  readonly id: string;
  readonly say: (n: string, x: string) => string;
  readonly python: (k: number, x: string) => string;
  readonly apply: (x: number, k: number) => boolean;
  readonly k: (rng: Rng) => number;
}
const PREDICATES: readonly Predicate[] = [
  { id: 'even', say: (_k, x) => `${x} is even`, python: (_k, x) => `${x} % 2 == 0`, apply: (x) => x % 2 === 0, k: fixed(2) },
  { id: 'odd', say: (_k, x) => `${x} is odd`, python: (_k, x) => `${x} % 2 == 1`, apply: (x) => x % 2 === 1, k: fixed(2) },
  { id: 'multiple', say: (n, x) => `${x} is a multiple of ${n}`, python: (k, x) => `${x} % ${k} == 0`, apply: (x, k) => x % k === 0, k: small },
  { id: 'greater', say: (n, x) => `${x} is greater than ${n}`, python: (k, x) => `${x} > ${k}`, apply: (x, k) => x > k, k: (rng) => 3 + rng.int(15) },
  { id: 'less', say: (n, x) => `${x} is less than ${n}`, python: (k, x) => `${x} < ${k}`, apply: (x, k) => x < k, k: (rng) => 3 + rng.int(15) },
];

const VERBS = ['compute', 'transform', 'convert', 'process', 'apply', 'make', 'get', 'find'];
const ARGS = ['x', 'n', 'a', 'value'];
const NOUNS = ['value', 'number', 'result', 'score', 'amount', 'total', 'count', 'level'];

/**
 * Test inputs: non-negative integers (Python and JavaScript agree on them), spread so
 * that every predicate is true for some and false for others: a constant answer fails.
 */
const INPUTS = [0, 1, 2, 3, 5, 7, 10, 12, 15, 18, 20, 24];

const render = (v: number | boolean): string => (typeof v === 'boolean' ? (v ? 'True' : 'False') : String(v));

function build(rng: Rng, arg: string, family: string, doc: string, body: string, f: (x: number) => number | boolean): CodeItem {
  const entry = `${rng.pick(VERBS)}_${rng.pick(NOUNS)}`;
  const prompt = `def ${entry}(${arg}):\n    """${doc}"""\n`;
  const asserts = INPUTS.map((x) => `    assert candidate(${x}) == ${render(f(x))}`).join('\n');
  return { task_id: '', prompt, entry_point: entry, test: `def check(candidate):\n${asserts}\n`, canonical_solution: `    return ${body}\n`, family };
}

/**
 * A task: a chain of one (weight 0.3), two (0.3) or three (0.25) operations applied in
 * order, or a predicate (0.15). Chains whose result is the same on every test input
 * ("multiply by 4, then take the remainder after dividing by 4") are drawn again: a
 * constant answer must fail.
 */
export function makeCodeItem(rng: Rng): CodeItem {
  const r = rng.float();
  const x = rng.pick(ARGS);
  if (r < 0.85) {
    const length = r < 0.3 ? 1 : r < 0.6 ? 2 : 3;
    for (;;) {
      const item = chainItem(rng, x, length);
      if (item) return item;
    }
  }
  const p = rng.pick(PREDICATES);
  const k = p.k(rng);
  return build(rng, x, p.id, `Return True if ${p.say(spell(rng, k), x)}, else False.`, p.python(k, x), (v) => p.apply(v, k));
}

/** A chain of `length` operations on `x`, or undefined where it computes a constant. */
function chainItem(rng: Rng, x: string, length: number): CodeItem | undefined {
  let body = x;
  const said: string[] = [];
  const steps: ((v: number) => number)[] = [];
  const ids: string[] = [];
  for (let i = 0; i < length; i++) {
    // Square only first, where its operand is the bare argument.
    const op = rng.pick(i === 0 ? OPS : OPS.filter((o) => o.id !== 'square'));
    const k = op.k(rng);
    said.push(op.say(spell(rng, k)));
    body = op.python(i === 0 ? x : `(${body})`, k);
    steps.push((v) => op.apply(v, k));
    ids.push(op.id);
  }
  const f = (v: number): number => steps.reduce((acc, step) => step(acc), v);
  if (new Set(INPUTS.map(f)).size === 1) return undefined;
  const doc = length === 1 ? `Take ${x} and ${said[0]}.` : `Take ${x}, ${said.slice(0, -1).join(', ')}, then ${said[length - 1]}.`;
  return build(rng, x, ids.join('-then-'), `${doc} Return the result.`, body, f);
}
