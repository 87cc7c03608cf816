/**
 * Paired differences between two models' evaluations on the same items, with a 95%
 * bootstrap interval over items (src/eval/bootstrap.ts): LAB session 13's `npm start`
 * deltas.
 *
 *   npx tsx scripts/probes/paired-gain.ts RUN A B SET [A B SET ...]
 *
 * RUN is a two-stage run folder (runs/two-stage-default); A and B are its model names
 * (base, warm, base-rl, warm-rl) and SET an evaluation set's name (math, code, mc, kk),
 * read from RUN/eval/A/SET/samples.jsonl. Prints acc(A) − acc(B) in points.
 */
import { readFileSync } from 'node:fs';
import { bootstrapMean, formatInterval, pairedDifference } from '../../src/eval/bootstrap.js';

const [run, ...rest] = process.argv.slice(2);
if (!run || rest.length === 0 || rest.length % 3 !== 0) {
  console.error('usage: npx tsx scripts/probes/paired-gain.ts RUN A B SET [A B SET ...]');
  process.exit(1);
}
/** Sample 0's correctness per item id. */
const load = (model: string, set: string): Map<string, number> => {
  const lines = readFileSync(`${run}/eval/${model}/${set}/samples.jsonl`, 'utf8').trim().split('\n');
  const rows = lines.map((l) => JSON.parse(l) as { id: string; sample: number; correct: boolean }).filter((s) => s.sample === 0);
  return new Map(rows.map((s) => [s.id, s.correct ? 1 : 0]));
};
for (let i = 0; i < rest.length; i += 3) {
  const [a, b, set] = rest.slice(i, i + 3) as [string, string, string];
  const A = load(a, set);
  const B = load(b, set);
  const ids = [...A.keys()].filter((id) => B.has(id));
  if (ids.length !== A.size || ids.length !== B.size) throw new Error(`${set}: ${a} and ${b} were evaluated on different items (${A.size} and ${B.size}, ${ids.length} shared)`);
  const d = pairedDifference([ids.map((id) => A.get(id) as number)], [ids.map((id) => B.get(id) as number)]);
  console.log(`${set}: ${a} − ${b} = ${formatInterval(bootstrapMean(d))} (${ids.length} items)`);
}
