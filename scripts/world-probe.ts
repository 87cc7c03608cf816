/**
 * Lab probe (dev sets only, never the held-out test sets): a checkpoint's accuracy and
 * format rate per world domain, greedy or sampled. Usage:
 *   npx tsx scripts/world-probe.ts CKPT [--split dev] [--limit 200] [--max-new-tokens 64] [--temperature 0] [--domains math,code,mc,kk] [--kk PUZZLES.jsonl]
 * `kk` reads the world's K&K dev puzzles (2–3 people), or --kk FILE; every prompt is the task loader's, as in rlvr and eval.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { selectBackend, describeBackend } from '../src/model/backend.js';
import { loadCheckpoint } from '../src/model/checkpoint.js';
import { generate } from '../src/model/sample.js';
import { RewardPool } from '../src/reward/pool.js';
import { taskFromRow } from '../src/tasks/tasks.js';
import { DOMAINS, type Domain, type WorldRow } from '../src/world/world.js';
import { puzzleFromRecord } from '../src/kk/records.js';
import { casesTrace } from '../src/teacher/cases.js';
import { joinList } from '../src/kk/render.js';
import { Rng } from '../src/util/rng.js';
import { NAMES } from '../src/world/vocab.js';
import { makeReadingDoc } from '../src/world/reading.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { kk: { type: 'string' }, style: { type: 'string', default: 'numbered' }, split: { type: 'string', default: 'dev' }, limit: { type: 'string', default: '200' }, 'max-new-tokens': { type: 'string', default: '64' }, temperature: { type: 'string', default: '0' }, domains: { type: 'string', default: DOMAINS.join(',') }, show: { type: 'string', default: '2' } },
});
if (values.split === 'test') throw new Error('the probe never reads the held-out test sets');
const ckpt = positionals[0] as string;
console.error(describeBackend(await selectBackend('auto')));
const { model, tokenizer } = await loadCheckpoint(ckpt);
const pool = new RewardPool({ size: 2 });
const out: Record<string, unknown> = {};
const promptOf = (r: WorldRow): string => taskFromRow(r, 0).prompt;
/**
 * `--domains copy` (and `copy-long`, the lists after ~100 tokens of other text): the base's copy skill, the gate before any K&K warmup (LAB probes 9, 11):
 * a list of 3–5 of the world's names, then "In order:"; exact read-back, greedy.
 */
function copyProbe(n: number, long: boolean): void {
  const rng = new Rng(20261206);
  const items = Array.from({ length: n }, () => rng.sample(NAMES, 3 + rng.int(3)));
  // copy-long: the same lists after ~100 tokens of other reading text (facts and quotes
  // about other people), so the lookup spans the distance it does in a K&K prompt.
  const ctx = new Rng(20261207);
  const before = (): string => {
    const docs: string[] = [];
    while (docs.length < 3) {
      const d = makeReadingDoc(ctx);
      if (!/In order:|Read back|\(1\) /.test(d)) docs.push(d);
    }
    return `${docs.join('\n\n')}\n\n`;
  };
  const prompts = items.map((names) => `${long ? before() : ''}We met ${joinList(names)}.\nIn order:`);
  const gens: string[] = [];
  for (let i = 0; i < prompts.length; i += 32) {
    const g = generate(model, tokenizer, prompts.slice(i, i + 32).map((p) => tokenizer.encode(p)), { maxNewTokens: 16, temperature: 0, seed: i });
    gens.push(...g.map((x) => x.text));
  }
  const exact = items.filter((names, i) => (gens[i] as string).startsWith(` ${names.join(', ')}.`)).length;
  const firstTwo = items.filter((names, i) => (gens[i] as string).startsWith(` ${names.slice(0, 2).join(', ')},`)).length;
  out[long ? 'copy-long' : 'copy'] = { n, exact: exact / n, firstTwo: firstTwo / n, sample: `${prompts[0]}${gens[0]}` };
}
for (const domain of values.domains.split(',') as Domain[]) {
  if ((domain as string) === 'copy' || (domain as string) === 'copy-long') {
    copyProbe(Number(values.limit), (domain as string) === 'copy-long');
    continue;
  }
  const file = domain === ('kk' as Domain) && values.kk ? values.kk : join('data/world', domain, `${values.split}.jsonl`);
  const rows = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => ({ ...JSON.parse(l), domain }) as WorldRow).slice(0, Number(values.limit));
  const t0 = performance.now();
  const gens: string[] = [];
  for (let i = 0; i < rows.length; i += 32) {
    const batch = rows.slice(i, i + 32);
    const g = generate(model, tokenizer, batch.map((r) => tokenizer.encode(promptOf(r))), { maxNewTokens: Number(values['max-new-tokens']), temperature: Number(values.temperature), seed: i });
    gens.push(...g.map((x) => x.text));
  }
  const scores = await Promise.all(rows.map((r, i) => pool.score({ prompt: promptOf(r), completion: gens[i] as string, row: r }, [{ ref: taskFromRow(r, 0).reward.ref as string }])));
  const by = (s: string) => scores.filter((x) => x.status === s).length;
  const byPeople: Record<string, number[]> = {};
  rows.forEach((r, i) => { if (typeof r.n_people === "number") (byPeople[String(r.n_people)] ??= []).push(scores[i]?.status === 'ok' ? 1 : 0); });
  out[domain] = { n: rows.length, ...(Object.keys(byPeople).length ? { byPeople: Object.fromEntries(Object.entries(byPeople).map(([k, v]) => [k, v.reduce((a, b) => a + b, 0) / v.length])) } : {}), accuracy: by('ok') / rows.length, format: 1 - by('format_error') / rows.length, statuses: Object.fromEntries(['ok', 'wrong', 'format_error', 'timeout', 'crashed'].map((s) => [s, by(s)])), seconds: +((performance.now() - t0) / 1000).toFixed(1) };
  if (domain === ('mc' as Domain)) {
    // Which letters it boxes: one letter every time scores ~25% without reading the question.
    const letters: Record<string, number> = {};
    for (const g of gens) { const m = /\\boxed\{([A-D])\}/.exec(g); letters[m ? m[1]! : '-'] = (letters[m ? m[1]! : '-'] ?? 0) + 1; }
    (out[domain] as Record<string, unknown>).letters = letters;
  }
  if (domain === ('kk' as Domain) && values.style !== 'none') {
    // Free-running step accuracy against the case-style teacher: the share of samples
    // whose line i is the teacher's line i (the list, each claim, the first case lines).
    const lineMatch: number[] = [];
    rows.forEach((r, k) => {
      const want = casesTrace(puzzleFromRecord(r, k), false, values.style === 'numbered').split('\n');
      const got = (gens[k] as string).replace(/^<think>/, '').split('\n');
      want.slice(0, 8).forEach((line, i) => { lineMatch[i] = (lineMatch[i] ?? 0) + (got[i] === line ? 1 / rows.length : 0); });
    });
    (out[domain] as Record<string, unknown>).lineMatch = lineMatch.map((x) => +x.toFixed(2));
  }
  for (let i = 0; i < Number(values.show); i++) console.error(`--- ${domain} ${scores[i]?.status}\n${promptOf(rows[i] as WorldRow)}${gens[i]}`);
}
await pool.close();
console.log(JSON.stringify(out, null, 1));
process.exit(0);
