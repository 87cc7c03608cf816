/**
 * Small Python functions described in words, in the HumanEval layout: `prompt` is the
 * signature and docstring, the model writes the body, and `test` defines
 * `check(candidate)` with asserts computed here from the same definition. Scored by the
 * code reward in the sandbox.
 *
 * A family is a description template and its meaning; a task draws a family and its
 * constants. One-operation families are what a small base learns from its corpus; a
 * composition of two ("add 3, then double") needs the description read in order.
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

/** An integer operation: how it is said, how it is written in Python, and what it computes. */
interface Op {
  readonly id: string;
  readonly say: (k: number) => string;
  readonly python: (x: string, k: number) => string;
  readonly apply: (x: number, k: number) => number;
  readonly k: (rng: Rng) => number;
}

const small = (rng: Rng): number => 2 + rng.int(8);
const medium = (rng: Rng): number => 2 + rng.int(19);
const OPS: readonly Op[] = [
  { id: 'add', say: (k) => `add ${k}`, python: (x, k) => `${x} + ${k}`, apply: (x, k) => x + k, k: medium },
  { id: 'sub', say: (k) => `subtract ${k}`, python: (x, k) => `${x} - ${k}`, apply: (x, k) => x - k, k: medium },
  { id: 'mul', say: (k) => `multiply by ${k}`, python: (x, k) => `${x} * ${k}`, apply: (x, k) => x * k, k: small },
  { id: 'square', say: () => 'square it', python: (x) => `${x} * ${x}`, apply: (x) => x * x, k: () => 0 },
];

/** Predicates on an integer, for boolean tasks. */
interface Predicate {
  readonly id: string;
  readonly say: (k: number, x: string) => string;
  readonly python: (k: number, x: string) => string;
  readonly apply: (x: number, k: number) => boolean;
  readonly k: (rng: Rng) => number;
}
const PREDICATES: readonly Predicate[] = [
  { id: 'multiple', say: (k, x) => `${x} is a multiple of ${k}`, python: (k, x) => `${x} % ${k} == 0`, apply: (x, k) => x % k === 0, k: small },
  { id: 'greater', say: (k, x) => `${x} is greater than ${k}`, python: (k, x) => `${x} > ${k}`, apply: (x, k) => x > k, k: (rng) => 3 + rng.int(15) },
  { id: 'less', say: (k, x) => `${x} is less than ${k}`, python: (k, x) => `${x} < ${k}`, apply: (x, k) => x < k, k: (rng) => 3 + rng.int(15) },
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

/** A task: one operation (weight 0.5), two in order (0.3) or a predicate (0.2). */
export function makeCodeItem(rng: Rng): CodeItem {
  const r = rng.float();
  const x = rng.pick(ARGS);
  if (r < 0.5) {
    const op = rng.pick(OPS);
    const k = op.k(rng);
    return build(rng, x, op.id, `Take ${x} and ${op.say(k)}. Return the result.`, op.python(x, k), (v) => op.apply(v, k));
  }
  if (r < 0.8) {
    const [a, b] = [rng.pick(OPS), rng.pick(OPS.filter((o) => o.id !== 'square'))];
    const [ka, kb] = [a.k(rng), b.k(rng)];
    const inner = a.python(x, ka);
    return build(rng, x, `${a.id}-then-${b.id}`, `Take ${x}, ${a.say(ka)}, then ${b.say(kb)}. Return the result.`, b.python(`(${inner})`, kb), (v) => b.apply(a.apply(v, ka), kb));
  }
  const p = rng.pick(PREDICATES);
  const k = p.k(rng);
  return build(rng, x, p.id, `Return True if ${p.say(k, x)}, else False.`, p.python(k, x), (v) => p.apply(v, k));
}
