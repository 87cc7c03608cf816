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
import type { Creature } from './vocab.js';
import { withArticle } from './mc.js';

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
function chainItem(rng: Rng, x: string, length: number, fact?: { at: number; creature: Creature }): CodeItem | undefined {
  let body = x;
  const said: string[] = [];
  const steps: ((v: number) => number)[] = [];
  const ids: string[] = [];
  for (let i = 0; i < length; i++) {
    // Square only first, where its operand is the bare argument.
    const legs = i === fact?.at ? fact.creature : undefined;
    const op = legs ? rng.pick(LEGS_OPS) : rng.pick(i === 0 ? OPS : OPS.filter((o) => o.id !== 'square'));
    const k = legs ? legs.legs : op.k(rng);
    said.push(op.say(legs ? legsOf(legs) : spell(rng, k)));
    body = op.python(i === 0 ? x : `(${body})`, k);
    steps.push((v) => op.apply(v, k));
    ids.push(legs ? `${op.id}-legs` : op.id);
  }
  const f = (v: number): number => steps.reduce((acc, step) => step(acc), v);
  if (new Set(INPUTS.map(f)).size === 1) return undefined;
  const doc = length === 1 ? `Take ${x} and ${said[0]}.` : `Take ${x}, ${said.slice(0, -1).join(', ')}, then ${said[length - 1]}.`;
  return build(rng, x, ids.join('-then-'), `${doc} Return the result.`, body, f);
}

/**
 * The v4 world's code (results/LAB.md, session 14): every task needs a fact about a
 * creature, its number of legs, as a constant ("add 3, then multiply by the number of
 * legs a jusk has" → `(x + 3) * 8`), so writing it takes knowledge as well as the
 * lexicon. Which creatures a base has seen in code is the corpus's choice: the v4
 * corpus names only some of them, and every set names all, so a set item's creature
 * may be one whose legs the base read only in sentences.
 *
 * A chain of one (weight 0.3), two (0.4) or three (0.15) operations, one of them with
 * the legs as its constant, or (0.15) a comparison with the legs.
 */
export function makeFactCodeItem(rng: Rng, creatures: readonly Creature[]): CodeItem & { readonly creature: string } {
  const r = rng.float();
  const x = rng.pick(ARGS);
  for (;;) {
    const creature = rng.pick(creatures);
    if (r < 0.85) {
      const length = r < 0.3 ? 1 : r < 0.7 ? 2 : 3;
      const item = chainItem(rng, x, length, { at: rng.int(length), creature });
      if (item) return { ...item, creature: creature.name };
      continue;
    }
    const p = rng.pick(LEGS_PREDICATES);
    // "less than the number of legs" of a creature with none is always false: drawn again.
    if (new Set(INPUTS.map((v) => p.apply(v, creature.legs))).size === 1) continue;
    return { ...build(rng, x, `${p.id}-legs`, `Return True if ${p.say(legsOf(creature), x)}, else False.`, p.python(creature.legs, x), (v) => p.apply(v, creature.legs)), creature: creature.name };
  }
}

/** How a task names a creature's legs: "the number of legs a jusk has". */
const legsOf = (c: Creature): string => `the number of legs ${withArticle(c.name)} has`;

/** The operations whose constant can be a creature's legs (0 included, so no division or remainder). */
const LEGS_OPS: readonly Op[] = OPS.filter((o) => o.id === 'add' || o.id === 'sub' || o.id === 'mul');
const LEGS_PREDICATES: readonly Predicate[] = PREDICATES.filter((p) => p.id === 'greater' || p.id === 'less');
