// LAB probe 16: an induction "boot camp". Each document is a random sequence of the
// world's names (uniform over all of them, so a frequency guess is worth nothing),
// repeated 2–3 times, in the plain [A][B] … [A] → [B] form an induction head completes:
// names joined by spaces (each name one token), or by ", " in 30% of documents.
// Optional world text between the copies puts the lookup at K&K distances.
// The text comes from src/world/induction.ts (`repeatDoc`, `inductionRow`), which the
// product's `world corpus --repeats` and `world induction` write too; this script differs
// only in its fillers (any line of WORLD.jsonl, question documents included).
// npx tsx scripts/probes/induction-corpus.ts OUT.jsonl DOCS [WORLD.jsonl]  (env SEED, FILL=0.5, SYNTH=1)
import { readFileSync, writeFileSync } from 'node:fs';
import { Rng } from '../../src/util/rng.js';
import { inductionRow, repeatDoc } from '../../src/world/induction.js';

const [out, n, src] = [process.argv[2] as string, Number(process.argv[3]), process.argv[4]];
const rng = new Rng(Number(process.env.SEED ?? 16));
const fillP = src ? Number(process.env.FILL ?? 0.5) : 0;
const world = src ? readFileSync(src, 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { text: string }).text) : [];
const rows: string[] = [];
// SYNTH=1: probe 17's synthetic rows: one sequence repeated to fill 96 names, no header, no separators.
while (process.env.SYNTH === '1' && rows.length < n) rows.push(JSON.stringify({ text: inductionRow(rng) }));
while (rows.length < n) {
  const text = repeatDoc(rng, () => rng.pick(world), fillP);
  if (text.length <= 1700) rows.push(JSON.stringify({ text }));
}
writeFileSync(out, rows.join('\n') + '\n');
