/**
 * A run's report, rebuilt from its files: report.json (every number shown), charts as
 * SVG (Vega-Lite, rendered headless) and one self-contained report.html.
 *
 * It reads what the stages wrote: every `metrics.arrows` up to two folders deep (an SFT
 * run if it has `loss`, an RL run if it has `reward_mean`; named by its folder) and
 * every evaluation summary at `eval/MODEL/SET/summary.json`.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { readRows } from '../data/dataset.js';
import { configOf } from '../data/schemas.js';
import { readArrowSchema } from '../data/ipc.js';
import { bootstrapShift, type Interval } from '../eval/bootstrap.js';
import type { EvalSummary } from '../eval/run.js';

type Series = [number, number][];

export interface ReportData {
  readonly run: string;
  readonly pipeline: unknown;
  readonly sft: Record<string, { steps: number; final_loss: number | null; final_eval_loss: number | null; series: Record<string, Series> }>;
  readonly rl: Record<string, { steps: number; rollouts_per_step: number | null; final_reward_mean: number | null; learning: RlLearning | null; series: Record<string, Series> }>;
  /** model → eval set → accuracy. */
  readonly eval: Record<string, Record<string, { mean: number; std: number; ci95: readonly [number, number] | null; format: number | null; items: number; n: number; pass_at_k: Record<string, number>; by_subset: Record<string, { mean: number; std: number; items: number }> }>>;
}

/** Did RL learn, on correctness: pass rate over the last quarter of steps against the first, and the mean learning signal. */
export interface RlLearning {
  readonly first_quarter_pass: number;
  readonly last_quarter_pass: number;
  /** last − first, with its 95% bootstrap interval over steps. */
  readonly shift: Interval;
  /** Mean share of rollouts whose group held different rewards (a non-zero advantage). */
  readonly mean_signal: number | null;
}

function rlLearning(series: Record<string, Series>): RlLearning | null {
  const pass = (series.pass_rate ?? []).map(([, v]) => v);
  const q = Math.floor(pass.length / 4);
  if (q < 2) return null;
  const first = pass.slice(0, q);
  const last = pass.slice(-q);
  const mean = (x: number[]): number => x.reduce((a, b) => a + b, 0) / x.length;
  const signal = (series.signal ?? []).map(([, v]) => v);
  return { first_quarter_pass: mean(first), last_quarter_pass: mean(last), shift: bootstrapShift(first, last), mean_signal: signal.length ? mean(signal) : null };
}

async function findMetrics(dir: string, depth = 2): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = join(dir, e.name);
    if (e.isFile() && e.name === 'metrics.arrows') out.push(p);
    else if (e.isDirectory() && depth > 0 && !['checkpoints', 'last', 'stages', 'charts'].includes(e.name)) out.push(...(await findMetrics(p, depth - 1)));
  }
  return out.sort();
}

/** Metric series by name, last value per step, sorted by step. */
async function readSeries(path: string): Promise<Record<string, Series>> {
  const by = new Map<string, Map<number, number>>();
  for await (const r of readRows(path)) {
    const name = String(r.name);
    const m = by.get(name) ?? new Map<number, number>();
    m.set(Number(r.step), Number(r.value));
    by.set(name, m);
  }
  return Object.fromEntries([...by].map(([name, m]) => [name, [...m].sort((a, b) => a[0] - b[0])]));
}

const lastOf = (s: Series | undefined): number | null => (s && s.length > 0 ? (s[s.length - 1] as [number, number])[1] : null);

/** Collects the numbers of a run folder. */
export async function collectReport(runDir: string): Promise<ReportData> {
  const pipelinePath = join(runDir, 'pipeline.json');
  const pipeline = existsSync(pipelinePath) ? (JSON.parse(await readFile(pipelinePath, 'utf8')) as unknown) : null;
  const data: ReportData = { run: runDir, pipeline, sft: {}, rl: {}, eval: {} };
  for (const path of await findMetrics(runDir)) {
    const series = await readSeries(path);
    const name = relative(runDir, dirname(path)) || basename(runDir);
    if (series.reward_mean) {
      const cfg = configOf(await readArrowSchema(path)) as { config?: { groupSize?: number; promptsPerStep?: number } } | undefined;
      const perStep = cfg?.config?.groupSize && cfg.config.promptsPerStep ? cfg.config.groupSize * cfg.config.promptsPerStep : null;
      const pick = ['reward_mean', 'pass_rate', 'signal', 'completion_length', 'kl', 'entropy', 'clip_fraction', 'loss'];
      data.rl[name] = { steps: series.reward_mean.length, rollouts_per_step: perStep, final_reward_mean: lastOf(series.reward_mean), learning: rlLearning(series), series: Object.fromEntries(pick.filter((k) => series[k]).map((k) => [k, series[k] as Series])) };
    } else if (series.loss) {
      data.sft[name] = { steps: series.loss.length, final_loss: lastOf(series.loss), final_eval_loss: lastOf(series.eval_loss), series: Object.fromEntries(['loss', 'eval_loss', 'lr'].filter((k) => series[k]).map((k) => [k, series[k] as Series])) };
    }
  }
  const evalDir = join(runDir, 'eval');
  for (const model of (await readdir(evalDir, { withFileTypes: true }).catch(() => [])).filter((e) => e.isDirectory())) {
    for (const set of (await readdir(join(evalDir, model.name), { withFileTypes: true })).filter((e) => e.isDirectory())) {
      const p = join(evalDir, model.name, set.name, 'summary.json');
      if (!existsSync(p)) continue;
      const s = JSON.parse(await readFile(p, 'utf8')) as EvalSummary;
      (data.eval[model.name] ??= {})[set.name] = {
        mean: s.overall.mean,
        std: s.overall.std,
        // Summaries written before intervals and format scores existed have neither.
        ci95: s.overall.ci95 ?? null,
        format: s.format ?? null,
        items: s.overall.items,
        n: s.n,
        pass_at_k: s.overall.passAtK,
        by_subset: Object.fromEntries(Object.entries(s.bySubset).map(([k, a]) => [k, { mean: a.mean, std: a.std, items: a.items }])),
      };
    }
  }
  return data;
}

/** Moving average over `w` points. */
function smooth(s: Series, w: number): Series {
  return s.map(([x], i) => {
    const window = s.slice(Math.max(0, i - w + 1), i + 1);
    return [x, window.reduce((a, p) => a + p[1], 0) / window.length];
  });
}

/** The Vega-Lite specs of the report's charts (empty data leaves a chart out). */
export function chartSpecs(d: ReportData): Record<string, Record<string, unknown>> {
  const line = (title: string, rows: Record<string, unknown>[], x: string, y: string, xTitle: string, yTitle: string): Record<string, unknown> => ({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 420,
    height: 220,
    data: { values: rows },
    mark: { type: 'line', point: rows.length < 80 },
    encoding: { x: { field: x, type: 'quantitative', title: xTitle }, y: { field: y, type: 'quantitative', title: yTitle }, color: { field: 'run', type: 'nominal' } },
  });
  const specs: Record<string, Record<string, unknown>> = {};
  const sftRows = Object.entries(d.sft).flatMap(([run, s]) => Object.entries(s.series).filter(([k]) => k !== 'lr').flatMap(([k, pts]) => pts.map(([step, value]) => ({ run: `${run} ${k}`, step, value }))));
  if (sftRows.length) specs.sft_loss = line('SFT warmup loss', sftRows, 'step', 'value', 'optimiser step', 'loss (completion tokens)');
  const rl = (key: string): Record<string, unknown>[] => Object.entries(d.rl).flatMap(([run, r]) => (r.series[key] ?? []).map(([step, value]) => ({ run, step, value })));
  if (rl('reward_mean').length) specs.rl_reward = line('RL reward (batch mean)', rl('reward_mean'), 'step', 'value', 'RL step', 'reward');
  if (rl('pass_rate').length) specs.rl_pass_rate = line('RL pass rate (share of rollouts scored ok)', rl('pass_rate'), 'step', 'value', 'RL step', 'pass rate');
  if (rl('signal').length) specs.rl_signal = line('RL learning signal (share of rollouts with a non-zero advantage: their group is not all-equal)', rl('signal'), 'step', 'value', 'RL step', 'share with signal');
  if (rl('completion_length').length) specs.response_length = line('Response length over RL', rl('completion_length'), 'step', 'value', 'RL step', 'tokens per completion');
  const efficiency = Object.entries(d.rl).flatMap(([run, r]) => smooth(r.series.pass_rate ?? [], 5).map(([step, value]) => ({ run, samples: step * (r.rollouts_per_step ?? 1), value })));
  if (efficiency.length) specs.sample_efficiency = line('Sample efficiency: target pass rate (5-step mean) against rollouts seen', efficiency, 'samples', 'value', 'rollouts sampled', 'target pass rate');
  const acc = Object.entries(d.eval).flatMap(([model, sets]) =>
    Object.entries(sets).map(([set, a]) => ({ model, set, mean: a.mean, lo: a.ci95 ? a.ci95[0] : Math.max(0, a.mean - a.std), hi: a.ci95 ? a.ci95[1] : Math.min(1, a.mean + a.std) })),
  );
  if (acc.length) {
    specs.accuracy = {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title: 'Accuracy (with its 95% interval over questions)',
      width: { step: 28 },
      height: 220,
      data: { values: acc },
      encoding: { x: { field: 'set', type: 'nominal', title: 'evaluation set' }, xOffset: { field: 'model' }, color: { field: 'model', type: 'nominal' } },
      layer: [
        { mark: 'bar', encoding: { y: { field: 'mean', type: 'quantitative', title: 'accuracy', scale: { domain: [0, 1] } } } },
        { mark: { type: 'errorbar', ticks: true }, encoding: { y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } } },
      ],
    };
  }
  return specs;
}

/** Renders a Vega-Lite spec to SVG, headless. */
export async function renderSvg(spec: Record<string, unknown>): Promise<string> {
  const vega = await import('vega');
  const { compile } = await import('vega-lite');
  const view = new vega.View(vega.parse(compile(spec as never).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Text escaped for HTML. */
export const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
/** A share as a percentage with one decimal. */
export const pct = (x: number): string => `${(100 * x).toFixed(1)}`;

/**
 * The four-way accuracy table as rows of cells: model, then per set the accuracy with
 * its 95% interval over questions ("54.0 [47.1, 60.9]"; "mean ± std" across samples for
 * summaries without one), and the format score (% of answers that parse).
 */
export function accuracyTable(d: ReportData): { sets: string[]; rows: { model: string; cells: string[]; format: string[] }[] } {
  const order = ['base', 'warm', 'base-rl', 'warm-rl'];
  const models = Object.keys(d.eval).sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99) || a.localeCompare(b));
  const sets = [...new Set(Object.values(d.eval).flatMap((s) => Object.keys(s)))].sort();
  const cell = (a: ReportData['eval'][string][string] | undefined): string => (!a ? '–' : a.ci95 ? `${pct(a.mean)} [${pct(a.ci95[0])}, ${pct(a.ci95[1])}]` : `${pct(a.mean)} ± ${pct(a.std)}`);
  const format = (a: ReportData['eval'][string][string] | undefined): string => (a?.format != null ? pct(a.format) : '–');
  return { sets, rows: models.map((m) => ({ model: m, cells: sets.map((s) => cell(d.eval[m]?.[s])), format: sets.map((s) => format(d.eval[m]?.[s])) })) };
}

function html(d: ReportData, svgs: Record<string, string>): string {
  const t = accuracyTable(d);
  const table = (head: string[], rows: string[][]): string =>
    `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
  const subsets = Object.entries(d.eval).flatMap(([model, sets]) => Object.entries(sets).flatMap(([set, a]) => Object.entries(a.by_subset).map(([k, s]) => [model, set, k, String(s.items), `${pct(s.mean)} ± ${pct(s.std)}`])));
  const sft = Object.entries(d.sft).map(([k, s]) => [k, String(s.steps), s.final_loss?.toFixed(4) ?? '–', s.final_eval_loss?.toFixed(4) ?? '–']);
  const rl = Object.entries(d.rl).map(([k, r]) => [
    k,
    String(r.steps),
    r.final_reward_mean?.toFixed(4) ?? '–',
    r.learning ? `${r.learning.first_quarter_pass.toFixed(3)} → ${r.learning.last_quarter_pass.toFixed(3)}` : '–',
    r.learning ? `${(r.learning.shift.mean >= 0 ? '+' : '') + r.learning.shift.mean.toFixed(3)} [${r.learning.shift.lo.toFixed(3)}, ${r.learning.shift.hi.toFixed(3)}]` : '–',
    r.learning?.mean_signal?.toFixed(2) ?? '–',
  ]);
  const charts = Object.entries(svgs).map(([name, svg]) => `<figure id="chart-${esc(name)}">${svg.replace(/^<\?xml[^>]*>/, '')}</figure>`).join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>warmup report: ${esc(basename(d.run))}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 4px 10px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
figure { display: inline-block; margin: 0.5em; }
pre { background: #f6f6f6; padding: 1em; overflow-x: auto; }
</style>
</head>
<body>
<h1>warmup report</h1>
<p>Run folder: <code>${esc(d.run)}</code>. Every number here is also in <code>report.json</code>; <code>warmup report ${esc(d.run)}</code> rebuilds this page.</p>
<h2>Accuracy (%, with its 95% bootstrap interval over questions)</h2>
${t.rows.length ? table(['model', ...t.sets], t.rows.map((r) => [r.model, ...r.cells])) : '<p>No evaluation summaries (eval/MODEL/SET/summary.json) yet.</p>'}
<h2>Format score (% of answers that parse, right or wrong)</h2>
${t.rows.length ? table(['model', ...t.sets], t.rows.map((r) => [r.model, ...r.format])) : ''}
<h2>Charts</h2>
${charts || '<p>No metrics yet.</p>'}
<h2>Training</h2>
${sft.length ? table(['SFT run', 'steps', 'final loss', 'final held-out loss'], sft) : ''}
${rl.length ? table(['RL run', 'steps', 'final reward', 'pass rate, first → last quarter', 'shift [95% interval]', 'mean learning signal'], rl) : ''}
<h2>Accuracy by subset</h2>
${subsets.length ? table(['model', 'set', 'subset', 'items', 'accuracy %'], subsets) : '<p>None.</p>'}
<h2>Config</h2>
<pre>${esc(JSON.stringify(d.pipeline, null, 2))}</pre>
</body>
</html>
`;
}

/** Writes report.json, charts/*.svg and report.html into the run folder. */
export async function writeReport(runDir: string): Promise<{ html: string; json: string; charts: string[] }> {
  if (!existsSync(runDir)) throw new Error(`${runDir}: no such run folder`);
  const data = await collectReport(runDir);
  const specs = chartSpecs(data);
  const svgs: Record<string, string> = {};
  await mkdir(join(runDir, 'charts'), { recursive: true });
  const charts: string[] = [];
  for (const [name, spec] of Object.entries(specs)) {
    svgs[name] = await renderSvg(spec);
    const p = join(runDir, 'charts', `${name}.svg`);
    await writeFile(p, svgs[name]);
    charts.push(p);
  }
  const json = join(runDir, 'report.json');
  const page = join(runDir, 'report.html');
  await writeFile(`${json}.tmp`, `${JSON.stringify(data, null, 2)}\n`);
  await rename(`${json}.tmp`, json);
  await writeFile(`${page}.tmp`, html(data, svgs));
  await rename(`${page}.tmp`, page);
  return { html: page, json, charts };
}

/** The report as terminal text: the accuracy and format tables, then each RL run's learning line. */
export function reportText(d: ReportData): string {
  const lines: string[] = [];
  const t = accuracyTable(d);
  if (t.rows.length > 0) {
    const w = Math.max(10, ...t.rows.map((r) => r.model.length));
    const cw = Math.max(18, ...t.sets.map((s) => s.length));
    const block = (title: string, cells: (r: (typeof t.rows)[number]) => string[]): string[] => [
      `${title.padEnd(w)}  ${t.sets.map((s) => s.padStart(cw)).join('  ')}`,
      ...t.rows.map((r) => `${r.model.padEnd(w)}  ${cells(r).map((c) => c.padStart(cw)).join('  ')}`),
    ];
    lines.push(...block('accuracy %', (r) => r.cells), '', ...block('format %', (r) => r.format));
    lines.push('(accuracy with its 95% bootstrap interval over questions; format: answers that parse, right or wrong)');
  }
  for (const [run, r] of Object.entries(d.rl)) {
    const l = r.learning;
    if (!l) continue;
    const f = (x: number): string => x.toFixed(3);
    lines.push(`${run}: pass rate ${f(l.first_quarter_pass)} (first quarter of ${r.steps} steps) -> ${f(l.last_quarter_pass)} (last), shift ${f(l.shift.mean)} [${f(l.shift.lo)}, ${f(l.shift.hi)}]; learning signal ${l.mean_signal?.toFixed(2) ?? '?'}`);
  }
  return lines.map((l) => `${l}\n`).join('');
}
