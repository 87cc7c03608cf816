/**
 * Text that teaches a small base to copy from its context (results/LAB.md, probes
 * 16–19). A copy is a lookup: find where the current name stood before and say what
 * followed it (an "induction head"). A 0.98M model finds that lookup only after a long
 * plateau of text that rewards nothing else, so the base gets two kinds of it:
 *
 * - induction rows: one random sequence of the world's names, repeated to fill the row.
 *   Every name after the first pass is predictable only by the lookup. A first
 *   pretraining phase on these alone (with an untied LM head) leaves the plateau in
 *   ~1,700 steps of 16 rows (probe 18).
 * - repeat documents: a sequence said, then said again after other documents, for the
 *   world corpus, so the lookup keeps working at a distance once the world's text
 *   arrives.
 */
import type { Rng } from '../util/rng.js';
import { NAMES } from './vocab.js';

/** Names in one pass of an induction row: 6–40, drawn uniformly (a frequency guess is worth nothing). */
const passLength = (rng: Rng): number => 6 + rng.int(35);

/** An induction row: a random sequence of the world's names repeated to fill `names` names (one token each in the world tokenizer). */
export function inductionRow(rng: Rng, names = 96): string {
  const pass = Array.from({ length: passLength(rng) }, () => rng.pick(NAMES));
  return ` ${Array.from({ length: names }, (_, i) => pass[i % pass.length]).join(' ')}`;
}

/**
 * A repeat document: "Names: …." then, 1–2 more times, "Again: …." with the same names;
 * before each repeat, with probability `fillShare`, 1–2 documents from `filler`, so the
 * lookup spans the distance a K&K quiz puts between a name and its use.
 */
export function repeatDoc(rng: Rng, filler: () => string, fillShare = 0.5): string {
  const pass = Array.from({ length: passLength(rng) }, () => rng.pick(NAMES));
  const line = pass.join(rng.float() < 0.3 ? ', ' : ' ');
  const copies = 2 + rng.int(2);
  const parts: string[] = [`Names: ${line}.`];
  for (let c = 1; c < copies; c++) {
    if (rng.float() < fillShare) parts.push(...Array.from({ length: 1 + rng.int(2) }, filler));
    parts.push(`Again: ${line}.`);
  }
  return parts.join('\n\n');
}
