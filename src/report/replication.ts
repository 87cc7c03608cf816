/**
 * The replication's report (pipelines/replicate.ts): per-evaluation "cells" (item ids
 * and 0/1 correctness, small enough to commit as a long run goes), and the claims
 * computed from them (`src/eval/replication.ts`) as report.json and report.html.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { replicationClaims, type ClaimResult, type Statistic } from '../eval/replication.js';
import type { EvalSample, EvalSummary } from '../eval/run.js';
import { esc, pct, type RlLearning } from './report.js';

/** One evaluation of one model on one held-out set: what the claims are computed from. */
export interface ReplicationCell {
  /** `base`, `warm`, `ARM-rl-D` or `ARM-rl-D@F` (a checkpoint at fraction F of the run). */
  readonly model: string;
  readonly set: string;
  /** null for a model every seed shares (the base). */
  readonly seed: number | null;
  readonly ids: string[];
  readonly correct: number[];
  readonly summary: { mean: number; ci95: readonly [number, number]; format: number; bySubset: Record<string, { mean: number; items: number }> };
}

/** The cell of a finished `warmup eval --out EVAL_OUT` (one sample per item), written to `cellsDir/cells/FILE.json`. */
export async function writeEvalCell(evalOut: string, cellsDir: string, file: string, cell: Pick<ReplicationCell, 'model' | 'set' | 'seed'>): Promise<void> {
  const samples = (await readFile(join(evalOut, 'samples.jsonl'), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Pick<EvalSample, 'id' | 'correct'>);
  const summary = JSON.parse(await readFile(join(evalOut, 'summary.json'), 'utf8')) as EvalSummary;
  const full: ReplicationCell = {
    ...cell,
    ids: samples.map((s) => s.id),
    correct: samples.map((s) => (s.correct ? 1 : 0)),
    summary: { mean: summary.overall.mean, ci95: summary.overall.ci95, format: summary.format, bySubset: Object.fromEntries(Object.entries(summary.bySubset).map(([k, v]) => [k, { mean: v.mean, items: v.items }])) },
  };
  await mkdir(join(cellsDir, 'cells'), { recursive: true });
  await writeFile(join(cellsDir, 'cells', `${file}.json`), `${JSON.stringify(full)}\n`);
}

export interface ReplicationReportOptions {
  readonly seeds: readonly number[];
  readonly domains: readonly string[];
  /** RL checkpoint fractions evaluated (claim iv), from 0 to 1. */
  readonly fractions: readonly number[];
  readonly resamples: number;
  /** The held-out sets' SHA-256 (data/world/sets.json), recorded in the report. */
  readonly setHashes: Record<string, string>;
  readonly config: unknown;
  /** The model claim (i) compares the warm model with (default: the base). */
  readonly control?: string;
  /** The plan's check that RL learns, on correctness, per RL run (`collectReport`'s `rl`). */
  readonly rl?: Readonly<Record<string, RlLearning | null>>;
}

/** Reads the cells, computes the claims, and writes report.json and report.html beside them. */
export async function writeReplicationReport(dir: string, o: ReplicationReportOptions): Promise<{ text: string; claims: ClaimResult[] }> {
  const cells: ReplicationCell[] = [];
  for (const f of (await readdir(join(dir, 'cells'))).filter((x) => x.endsWith('.json')).sort()) cells.push(JSON.parse(await readFile(join(dir, 'cells', f), 'utf8')) as ReplicationCell);
  const matrices: Record<string, Record<string, number[][]>> = {};
  const used = cells.filter((cell) => cell.seed === null || o.seeds.includes(cell.seed));
  for (const cell of used) {
    const rows = ((matrices[cell.model] ??= {})[cell.set] ??= []);
    rows[cell.seed === null ? 0 : o.seeds.indexOf(cell.seed)] = cell.correct;
  }
  const claims = replicationClaims({ domains: o.domains, cells: matrices, fractions: o.fractions, resamples: o.resamples, ...(o.control ? { control: o.control } : {}) });
  const accuracy = Object.fromEntries(
    Object.entries(matrices).map(([model, bySet]) => [model, Object.fromEntries(Object.entries(bySet).map(([set, rows]) => [set, rows.flat().reduce((a, b) => a + b, 0) / rows.flat().length]))]),
  );
  const warmKK = cells.filter((x) => x.model === 'warm' && x.set === 'kk').map((x) => ({ seed: x.seed, mean: x.summary.mean, bySubset: x.summary.bySubset }));
  // Format: the share of answers that parse, mean over seeds, beside every accuracy.
  const formats: Record<string, Record<string, number[]>> = {};
  for (const cell of used) ((formats[cell.model] ??= {})[cell.set] ??= []).push(cell.summary.format);
  const format = Object.fromEntries(Object.entries(formats).map(([model, bySet]) => [model, Object.fromEntries(Object.entries(bySet).map(([set, v]) => [set, v.reduce((a, b) => a + b, 0) / v.length]))]));
  const json = { plan: 'results/PLAN.md', seeds: o.seeds, domains: o.domains, set_sha256: o.setHashes, config: o.config, claims, accuracy, format, warm_kk: warmKK, rl_learning: o.rl ?? {} };
  await writeFile(join(dir, 'report.json'), `${JSON.stringify(json, null, 2)}\n`);
  const interval = (x: Statistic): string => `${pct(x.mean)} [${pct(x.lo)}, ${pct(x.hi)}]`;
  const line = (c: ClaimResult): string =>
    `(${c.claim}) ${c.title}: ${interval(c.pooled)} points → ${c.pooled.verdict}${c.secondary ? `; ${c.secondary.label}: ${interval(c.secondary.pooled)}` : ''}`;
  const text = [`replication over seeds ${o.seeds.join(', ')}, domains ${o.domains.join(', ')}:`, ...claims.map(line)].join('\n');
  const estimate = (x: Pick<Statistic, 'mean' | 'lo' | 'hi'>): string => `<td>${pct(x.mean)}</td><td>[${pct(x.lo)}, ${pct(x.hi)}]</td>`;
  const rows = claims.flatMap((c) => [
    `<tr><td>(${c.claim}) ${esc(c.title)}</td><td>pooled</td>${estimate(c.pooled)}<td><b>${c.pooled.verdict}</b></td></tr>`,
    ...Object.entries(c.parts).map(([k, v]) => `<tr><td></td><td>${esc(k)}</td>${estimate(v)}<td>${v.verdict}</td></tr>`),
    ...(c.secondary ? [`<tr><td></td><td>${esc(c.secondary.label)}</td>${estimate(c.secondary.pooled)}<td>${c.secondary.pooled.verdict}</td></tr>`] : []),
  ]);
  const models = Object.keys(accuracy).sort();
  const setNames = [...new Set(models.flatMap((m) => Object.keys(accuracy[m] ?? {})))].sort();
  const accCell = (m: string, s: string): string => (accuracy[m]?.[s] === undefined ? '–' : `${pct(accuracy[m][s])} <small>(${pct(format[m]?.[s] ?? Number.NaN)})</small>`);
  const accRows = models.map((m) => `<tr><td>${esc(m)}</td>${setNames.map((s) => `<td>${accCell(m, s)}</td>`).join('')}</tr>`);
  const rlRows = Object.entries(o.rl ?? {}).map(
    ([run, l]) =>
      `<tr><td>${esc(run)}</td>${l ? `<td>${pct(l.first_quarter_pass)} → ${pct(l.last_quarter_pass)}</td>${estimate(l.shift)}<td>${l.mean_signal === null ? '–' : l.mean_signal.toFixed(2)}</td>` : '<td colspan="4">too few steps</td>'}</tr>`,
  );
  const html = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>warmup replication</title>
<style>body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1000px}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}</style></head>
<body><h1>Replication: the four claims in the toy world</h1>
<p>Plan: <code>results/PLAN.md</code>. Seeds ${o.seeds.join(', ')}; target domains ${esc(o.domains.join(', '))}. Differences in percentage points with 95% paired-bootstrap intervals over seeds and items; verdict: reproduced if the interval lies above 0, not reproduced if it lies below +2, inconclusive otherwise.</p>
<table><thead><tr><th>claim</th><th>part</th><th>estimate</th><th>95% interval</th><th>verdict</th></tr></thead><tbody>${rows.join('')}</tbody></table>
<h2>Accuracy (%, mean over seeds, greedy, held-out sets; in brackets, answers that parse)</h2>
<table><thead><tr><th>model</th>${setNames.map((s) => `<th>${esc(s)}</th>`).join('')}</tr></thead><tbody>${accRows.join('')}</tbody></table>
${rlRows.length ? `<h2>RL learns, on correctness (sampled pass rate on the RL set; shift with a 95% bootstrap interval over steps)</h2>
<table><thead><tr><th>RL run</th><th>pass rate, first → last quarter</th><th>shift</th><th>95% interval</th><th>mean learning signal</th></tr></thead><tbody>${rlRows.join('')}</tbody></table>` : ''}
<h2>Held-out sets (SHA-256)</h2><pre>${esc(JSON.stringify(o.setHashes, null, 2))}</pre>
</body></html>
`;
  await writeFile(join(dir, 'report.html'), html);
  return { text, claims };
}
