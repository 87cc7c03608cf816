// LAB probe 16: an induction "boot camp". Each document is a random sequence of the
// world's names (uniform over all of them, so a frequency guess is worth nothing),
// repeated 2–3 times, in the plain [A][B] … [A] → [B] form an induction head completes:
// names joined by spaces (each name one token), or by ", " in a share of documents.
// Optional world text between the copies puts the lookup at K&K distances.
// npx tsx scripts/probes/induction-corpus.ts OUT.jsonl DOCS [WORLD.jsonl]  (env SEED, COMMA=0.3, FILL=0.5, SYNTH=1)
import { readFileSync, writeFileSync } from 'node:fs';
import { Rng } from '../../src/util/rng.js';
import { NAMES } from '../../src/world/vocab.js';

const [out, n, src] = [process.argv[2] as string, Number(process.argv[3]), process.argv[4]];
const rng = new Rng(Number(process.env.SEED ?? 16));
const commaP = Number(process.env.COMMA ?? 0.3);
const fillP = src ? Number(process.env.FILL ?? 0.5) : 0;
const world = src ? readFileSync(src, 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { text: string }).text) : [];
const rows: string[] = [];
// SYNTH=1: probe 17's synthetic rows as text: one sequence repeated to fill 96 names, no header, no separators.
if (process.env.SYNTH === '1') {
  while (rows.length < n) {
    const seq = Array.from({ length: 6 + rng.int(35) }, () => rng.pick(NAMES));
    rows.push(JSON.stringify({ text: ` ${Array.from({ length: 96 }, (_, i) => seq[i % seq.length]).join(' ')}` }));
  }
}
while (rows.length < n) {
  const seq = Array.from({ length: 6 + rng.int(35) }, () => rng.pick(NAMES));
  const line = seq.join(rng.float() < commaP ? ', ' : ' ');
  const copies = 2 + rng.int(2);
  const parts: string[] = [];
  for (let c = 0; c < copies; c++) {
    if (c > 0 && rng.float() < fillP) parts.push(...Array.from({ length: 1 + rng.int(2) }, () => rng.pick(world)));
    parts.push(`${c === 0 ? 'Names' : 'Again'}: ${line}.`);
  }
  const text = parts.join('\n\n');
  if (text.length <= 1700) rows.push(JSON.stringify({ text }));
}
writeFileSync(out, rows.join('\n') + '\n');
