// LAB probe 15: documents dense in exact repeats at K&K distances, to shorten the copy
// plateau (probe 11) and make the skill general when it appears. Each document holds 1–3
// sequences (names, counts, colours) or quote sets; each is recalled later, after 0–3
// world documents, in a template that the copy gates (`world-probe --domains copy`)
// never use ("We met …", "In order:" are left out on purpose).
// npx tsx scripts/probes/repeat-corpus.ts WORLD.jsonl OUT.jsonl DOCS   (env SEED, FILL=0.7 share of gaps with world text)
import { readFileSync, writeFileSync } from 'node:fs';
import { Rng } from '../../src/util/rng.js';
import { COLORS, HOMES, NAMES, THINGS } from '../../src/world/vocab.js';

const [src, out, n] = [process.argv[2] as string, process.argv[3] as string, Number(process.argv[4])];
const rng = new Rng(Number(process.env.SEED ?? 15));
const fillP = Number(process.env.FILL ?? 0.7);
const world = readFileSync(src, 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { text: string }).text);

const item = (): string => {
  const r = rng.float();
  return r < 0.7 ? rng.pick(NAMES) : r < 0.85 ? `${1 + rng.int(20)} ${rng.pick(THINGS)}` : `${rng.pick(COLORS)} ${rng.pick(THINGS)}`;
};
const SEPS = [', ', ' ', '; ', ' then '];
const INTROS = [(s: string) => `Roll call: ${s}.`, (s: string) => `The names were ${s}.`, (s: string) => `On the board: ${s}.`, (s: string) => `Note ${rng.int(90) + 10}: ${s}.`];
const RECALLS = [(s: string) => `Roll call again: ${s}.`, (s: string) => `Once more, the names were ${s}.`, (s: string) => `The board still says: ${s}.`, (s: string) => `Copy: ${s}.`];
const clause = (who: string): string => {
  const o = rng.pick(NAMES);
  switch (rng.int(4)) {
    case 0: return `${o} has ${1 + rng.int(12)} ${rng.pick(THINGS)}`;
    case 1: return `${o} lives by the ${rng.pick(HOMES)}`;
    case 2: return `${who} and ${o} like ${rng.pick(COLORS)} ${rng.pick(THINGS)}`;
    default: return `${o} is not ${rng.pick(NAMES)}'s friend`;
  }
};
/** A unit: what is said first, and its recall. */
function unit(): [string, string] {
  if (rng.float() < 0.6) {
    const seq = Array.from({ length: 3 + rng.int(10) }, item);
    const s = seq.join(rng.pick(SEPS));
    const k = rng.int(INTROS.length);
    return [(INTROS[k] as (s: string) => string)(s), (RECALLS[rng.float() < 0.5 ? k : rng.int(RECALLS.length)] as (s: string) => string)(s)];
  }
  const who = rng.sample(NAMES, 2 + rng.int(3));
  const said = who.map((w) => clause(w));
  const intro = who.map((w, i) => `${w} says: ${said[i]}.`).join(' ');
  if (rng.float() < 0.5) {
    const k = rng.int(who.length);
    return [intro, `What did ${who[k]} say? ${who[k]} said: ${said[k]}.`];
  }
  return [intro, `Again, in order. ${who.map((w, i) => `${w} says: ${said[i]}.`).join(' ')}`];
}
const gap = (): string[] => (rng.float() < fillP ? Array.from({ length: 1 + rng.int(3) }, () => rng.pick(world)) : []);
const rows: string[] = [];
while (rows.length < n) {
  const units = Array.from({ length: 1 + rng.int(3) }, unit);
  const parts: string[] = [...gap().slice(0, 1)];
  for (const [intro] of units) parts.push(intro, ...gap());
  for (const [, recall] of rng.shuffle(units)) parts.push(recall, ...gap().slice(0, 1));
  const text = parts.join('\n\n');
  if (text.length <= 1600) rows.push(JSON.stringify({ text })); // fits 512 tokens of the world tokenizer

}
writeFileSync(out, rows.join('\n') + '\n');
