// LAB probe 11: reading documents of the list form only (kind `list`), seeded by $SEED.
// npx tsx scripts/probes/list-corpus.ts OUT.jsonl COUNT [list|any]
import { writeFileSync } from 'node:fs';
import { makeReadingDoc } from '../../src/world/reading.js';
import { Rng } from '../../src/util/rng.js';
const [out, n, kind] = [process.argv[2] as string, Number(process.argv[3]), process.argv[4] ?? 'list'];
const rng = new Rng(Number(process.env.SEED ?? 11));
const rows: string[] = [];
while (rows.length < n) {
  const d = makeReadingDoc(rng);
  const isList = /In order:|Read back|\(1\) /.test(d);
  if (kind === 'list' && !isList) continue;
  rows.push(JSON.stringify({ text: d }));
}
writeFileSync(out, rows.join('\n') + '\n');
