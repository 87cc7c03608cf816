// Probe 12: a corpus of pages (~1,200 chars, documents joined by blank lines, no reset
// of positions), with reading documents whose recall is delayed past other documents.
// npx tsx scripts/probes/pages.ts WORLD.jsonl OUT.jsonl READING_DOCS [PAGE_CHARS]  (env NO_WORLD=1: world documents only as fillers; DELAY=0.6)
import { readFileSync, writeFileSync } from 'node:fs';
import { makeReadingDoc } from '../../src/world/reading.js';
import { Rng } from '../../src/util/rng.js';
const [src, out, nReading, pageChars] = [process.argv[2] as string, process.argv[3] as string, Number(process.argv[4]), Number(process.argv[5] ?? 1200)];
const rng = new Rng(12);
const world = rng.shuffle(readFileSync(src, 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { text: string }).text));
// A reading document is either whole, or its recall (what follows its first line) is
// put after 1–3 world documents: the lookup then spans a few hundred tokens.
type Unit = string[];
const units: Unit[] = process.env.NO_WORLD ? [] : world.map((t) => [t]);
const delayP = Number(process.env.DELAY ?? 0.6);
let delayed = 0;
for (let i = 0; i < nReading; i++) {
  const d = makeReadingDoc(rng);
  const cut = d.indexOf('\n');
  const head = d.slice(0, cut);
  if (cut > 0 && !head.endsWith('?') && rng.float() < delayP) {
    const between = Array.from({ length: 1 + rng.int(3) }, () => world[rng.int(world.length)] as string);
    units.push([head, ...between, d.slice(cut + 1)]);
    delayed++;
  } else units.push([d]);
}
const order = rng.shuffle(units);
const pages: string[] = [];
let page: string[] = [];
let len = 0;
for (const u of order) {
  const t = u.join('\n\n');
  if (len > 0 && len + t.length > pageChars) {
    pages.push(page.join('\n\n'));
    page = [];
    len = 0;
  }
  page.push(t);
  len += t.length + 2;
}
if (page.length) pages.push(page.join('\n\n'));
writeFileSync(out, pages.map((text) => JSON.stringify({ text })).join('\n') + '\n');
console.log({ world: world.length, reading: nReading, delayed, pages: pages.length, chars: pages.reduce((a, p) => a + p.length, 0) });
