/**
 * Reading documents for the world corpus: short texts whose second half repeats, looks
 * up or reports what the first half said, so the base learns to copy from its context
 * (names in order, who has what, who said what). A pretrained language model has this
 * skill from ordinary text; without it the world's base renamed the function it was
 * asked to write (results/LAB.md, probe 1) and could not copy a quiz's names.
 *
 * Plain statements about people and things only: no knights, knaves, truth or lies,
 * no chain of thought. Names are the world's (which are the K&K islanders' names).
 */
import { joinList } from '../kk/render.js';
import type { Rng } from '../util/rng.js';
import { COLORS, HOMES, NAMES, THINGS } from './vocab.js';

const JOBS: readonly string[] = ['baker', 'farmer', 'singer', 'painter', 'sailor', 'teacher', 'miller', 'weaver', 'potter', 'builder'];

/** A plain fact about someone, as a clause ("Mia has 4 shells"). */
function clause(rng: Rng, who: string, others: readonly string[]): string {
  switch (rng.int(5)) {
    case 0:
      return `${who} has ${1 + rng.int(12)} ${rng.pick(THINGS)}`;
    case 1:
      return `${who} lives by the ${rng.pick(HOMES)}`;
    case 2:
      return `the ${rng.pick(COLORS)} box belongs to ${who}`;
    case 3:
      return `${rng.pick(others)} is a ${rng.pick(JOBS)}`;
    default:
      return `${who} likes ${rng.pick(COLORS)} ${rng.pick(THINGS)}`;
  }
}

const SAY_FRAMES: readonly ((who: string, c: string) => string)[] = [
  (who, c) => `${who} says, "${c[0]?.toUpperCase()}${c.slice(1)}."`,
  (who, c) => `"${c[0]?.toUpperCase()}${c.slice(1)}," says ${who}.`,
  (who, c) => `${who} says that ${c}.`,
  (who, c) => `${who} tells us that ${c}.`,
];

/** Names in order, then the same names read back. */
function listDoc(rng: Rng): string {
  const names = rng.sample(NAMES, 2 + rng.int(4));
  const intro = rng.pick([`${joinList(names)} came to the fair.`, `We met ${joinList(names)}.`, `The list has ${names.length} names: ${joinList(names)}.`]);
  const back = rng.pick([`In order: ${names.join(', ')}.`, `Read back, the names are ${joinList(names)}.`, names.map((n, i) => `(${i + 1}) ${n}`).join('\n')]);
  return `${intro}\n${back}`;
}

/** Who does what, then one person looked up, or everyone recapped in order. */
function factsDoc(rng: Rng): string {
  const names = rng.sample(NAMES, 2 + rng.int(3));
  const jobs = rng.sample(JOBS, names.length);
  const intro = names.map((n, i) => `${n} is a ${jobs[i]}.`).join(' ');
  if (rng.float() < 0.5) {
    const k = rng.int(names.length);
    return `User: ${intro} What is ${names[k]}'s job?\nAssistant: ${names[k]} is a ${jobs[k]}.`;
  }
  return `${intro} So: ${names.map((n, i) => `${n} is a ${jobs[i]}`).join(', ')}.`;
}

/** Who said what, then the statements restated, or one speaker's asked for. */
function quotesDoc(rng: Rng): string {
  const names = rng.sample(NAMES, 2 + rng.int(3));
  const claims = names.map((n) => clause(rng, rng.pick(names), names.filter((x) => x !== n)));
  const intro = names.map((n, i) => rng.pick(SAY_FRAMES)(n, claims[i] as string)).join(' ');
  if (rng.float() < 0.5) {
    const k = rng.int(names.length);
    return `User: ${intro} What does ${names[k]} say?\nAssistant: ${names[k]} says that ${claims[k]}.`;
  }
  return `${intro}\n${names.map((n, i) => `${n} says: ${claims[i]}.`).join('\n')}`;
}

/** One reading document: a list, a set of facts or a set of quotes, each with its recall. */
export function makeReadingDoc(rng: Rng): string {
  const r = rng.float();
  return r < 0.3 ? listDoc(rng) : r < 0.6 ? factsDoc(rng) : quotesDoc(rng);
}
