/**
 * The replication (results/PLAN.md): the paper's four claims in the toy world, over
 * seeds, with paired-bootstrap intervals and verdicts.
 *
 *   warmup run pipelines/replicate.ts [--preset default|minimal] [--set key=value …] [--out DIR]
 *
 * For every seed: warm the shipped base up on that seed's K&K puzzles; for every
 * target domain D, run RLVR on D's 100 examples from the base and from the warm model
 * (checkpoints at each quarter of the run). Every model is evaluated, greedily, on
 * every target domain's held-out set (the warm models on held-out K&K too), and the RL
 * checkpoints on D's set for claim (iv). The base is fixed, so it is evaluated once.
 *
 * Each finished evaluation is also written as a small "cell" (item ids and 0/1
 * correctness) under `cells` (results/replication/cells by default), so a long run can
 * be committed as it goes and resumed across sessions; the run folder resumes per stage
 * (seed, domain, arm). The last stage computes the claims from the cells and writes
 * report.json and report.html beside them. Settings are those of `npm start`
 * (pipelines/two-stage.ts), so one tuned recipe serves both.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { replicationClaims, type ClaimResult, type Pipeline } from 'warmup';
import twoStage from './two-stage.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const recipe = twoStage.presets.default;

type Config = typeof recipe & {
  /** Seeds, comma-separated: each changes the warmup puzzles and their order, RL sampling and prompt order. */
  seeds: string;
  /** Target domains, comma-separated: each is an RL domain and a held-out set (data/world/D/). */
  domains: string;
  /** Folder of the cells and the report (relative to the repository). */
  cells: string;
  /** Bootstrap replicates of each statistic. */
  resamples: number;
};

const FRACTIONS = [0, 0.25, 0.5, 0.75, 1];

const replicate: Config = { ...recipe, seeds: '0,1,2', domains: 'math,code,mc', cells: 'results/replication', resamples: 10_000 };

type Cell = { model: string; set: string; seed: number | null; ids: string[]; correct: number[]; summary: { mean: number; ci95: [number, number]; format: number; bySubset: Record<string, { mean: number; items: number }> } };

export default {
  name: 'replicate',
  description: "the paper's four claims over seeds and target domains, with paired-bootstrap intervals and verdicts",
  presets: {
    default: replicate,
    // For tests: two seeds, two domains, every stage, in seconds.
    minimal: { ...twoStage.presets.minimal, seeds: '0,1', domains: 'math,mc', cells: '', resamples: 500, rlSteps: 4 },
  },
  async run(ctx) {
    const c = ctx.config;
    const at = (p: string): string => resolve(ROOT, p);
    const p = ctx.path.bind(ctx);
    const list = (s: string): string[] => s.split(',').map((x) => x.trim()).filter(Boolean);
    const seeds = list(c.seeds).map(Number);
    const domains = list(c.domains);
    const cellsDir = c.cells ? at(c.cells) : p('cells');
    const exclude = list(c.exclude).map(at);
    const setFile = (set: string): string => at(join('data', 'world', set, 'test.jsonl'));
    const base = at(c.base);
    const quarter = Math.max(1, Math.round(c.rlSteps / 4));

    /** Evaluates `model` on `set` (greedy) and writes its cell. */
    const evaluate = (name: string, model: string, set: string, seed: number | null): Promise<void> =>
      ctx.stage(`eval-${name}-${set}`, async () => {
        const out = p('eval', name, set);
        await ctx.warmup(['eval', '--model', model, '--bench', setFile(set), '--n', '1', '--limit', String(c.evalLimit), '--max-new-tokens', String(c.evalMaxNewTokens), '--temperature', '0', '--seed', String(seed ?? 0), '--out', out, '--quiet']);
        const samples = (await readFile(join(out, 'samples.jsonl'), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as { id: string; correct: boolean });
        const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8')) as { overall: { mean: number; ci95: [number, number] }; format: number; bySubset: Record<string, { mean: number; items: number }> };
        const cell: Cell = {
          // 'warm-rl-math_at0.25-s1' → model 'warm-rl-math@0.25' of seed 1.
          model: name.replace(/-s\d+$/, '').replace(/_at(?=[\d.]+$)/, '@'),
          set,
          seed,
          ids: samples.map((s) => s.id),
          correct: samples.map((s) => (s.correct ? 1 : 0)),
          summary: { mean: summary.overall.mean, ci95: summary.overall.ci95, format: summary.format, bySubset: Object.fromEntries(Object.entries(summary.bySubset).map(([k, v]) => [k, { mean: v.mean, items: v.items }])) },
        };
        await mkdir(join(cellsDir, 'cells'), { recursive: true });
        await writeFile(join(cellsDir, 'cells', `${name}-${set}.json`), `${JSON.stringify(cell)}\n`);
      });

    for (const set of [...domains, 'kk']) await evaluate('base', base, set, null);
    for (const seed of seeds) {
      const s = `s${seed}`;
      await ctx.stage(`puzzles-${s}`, () =>
        ctx.warmup(['kk', 'generate', '--people', c.people, '--count', String(c.puzzles), '--seed', String(1000 + seed), ...(exclude.length ? ['--exclude', ...exclude] : []), '--out', p(s, 'puzzles.arrow'), '--quiet']),
      );
      await ctx.stage(`traces-${s}`, () => ctx.warmup(['traces', '--puzzles', p(s, 'puzzles.arrow'), '--teacher', 'symbolic', '--template', 'world', '--verbosity', c.verbosity, '--n', '1', '--out', p(s, 'traces.arrows'), '--quiet']));
      await ctx.stage(`sft-${s}`, () =>
        ctx.warmup([
          'sft', '--model', base, '--data', p(s, 'traces.arrows'), '--out', p(s, 'warm'), '--metrics', p(s, 'sft', 'metrics.arrows'),
          '--epochs', String(c.sftEpochs), '--lr', String(c.sftLr), '--batch-size', String(c.sftBatch), '--max-length', String(c.maxLength), '--seed', String(seed), '--quiet',
          ...(existsSync(p(s, 'warm', 'trainer_state.json')) ? ['--resume'] : []),
        ]),
      );
      for (const set of [...domains, 'kk']) await evaluate(`warm-${s}`, p(s, 'warm'), set, seed);
      for (const d of domains) {
        for (const [arm, from] of [['base', base], ['warm', p(s, 'warm')]] as const) {
          const run = p(s, `rl-${arm}-${d}`);
          await ctx.stage(`rl-${arm}-${d}-${s}`, () =>
            ctx.warmup([
              'rlvr', '--model', from, '--data', at(join('data', 'world', d, 'rl.jsonl')), '--out', run,
              '--steps', String(c.rlSteps), '--group-size', String(c.groupSize), '--prompts-per-step', String(c.promptsPerStep), '--lr', String(c.rlLr),
              '--temperature', String(c.temperature), '--max-new-tokens', String(c.maxNewTokens), '--save-every', String(quarter), '--seed', String(seed), '--quiet',
              ...(existsSync(join(run, 'rollouts.arrows')) ? ['--resume'] : []),
            ]),
          );
          for (const set of domains) await evaluate(`${arm}-rl-${d}-${s}`, join(run, 'last'), set, seed);
          // Claim (iv): the checkpoints at each quarter, on D only.
          for (const f of FRACTIONS.slice(1, -1)) {
            const step = Math.round(f * c.rlSteps);
            await evaluate(`${arm}-rl-${d}_at${f}-${s}`, join(run, 'checkpoints', `step-${String(step).padStart(6, '0')}`), d, seed);
          }
        }
      }
    }
    await ctx.stage('verdicts', async () => {
      const report = await replicationReport(cellsDir, { seeds, domains, resamples: c.resamples, config: c });
      ctx.log(report.text);
    });
  },
} satisfies Pipeline<Config>;

/** Reads the cells, computes the claims, and writes report.json and report.html beside them. */
async function replicationReport(dir: string, o: { seeds: number[]; domains: string[]; resamples: number; config: unknown }): Promise<{ text: string }> {
  const cells: Cell[] = [];
  for (const f of (await readdir(join(dir, 'cells'))).filter((x) => x.endsWith('.json')).sort()) cells.push(JSON.parse(await readFile(join(dir, 'cells', f), 'utf8')) as Cell);
  const matrices: Record<string, Record<string, number[][]>> = {};
  for (const cell of cells) {
    if (cell.seed !== null && !o.seeds.includes(cell.seed)) continue;
    const rows = ((matrices[cell.model] ??= {})[cell.set] ??= []);
    rows[cell.seed === null ? 0 : o.seeds.indexOf(cell.seed)] = cell.correct;
  }
  const claims = replicationClaims({ domains: o.domains, cells: matrices, fractions: FRACTIONS, resamples: o.resamples });
  const sets = JSON.parse(await readFile(resolve(ROOT, 'data/world/sets.json'), 'utf8')) as { sha256: Record<string, string> };
  const accuracy = Object.fromEntries(
    Object.entries(matrices).map(([model, bySet]) => [model, Object.fromEntries(Object.entries(bySet).map(([set, rows]) => [set, rows.flat().reduce((a, b) => a + b, 0) / rows.flat().length]))]),
  );
  const warmKK = cells.filter((x) => x.model === 'warm' && x.set === 'kk').map((x) => ({ seed: x.seed, mean: x.summary.mean, bySubset: x.summary.bySubset }));
  const json = { plan: 'results/PLAN.md', seeds: o.seeds, domains: o.domains, set_sha256: sets.sha256, config: o.config, claims, accuracy, warm_kk: warmKK };
  await writeFile(join(dir, 'report.json'), `${JSON.stringify(json, null, 2)}\n`);
  const pct = (x: number): string => (100 * x).toFixed(1);
  const line = (c: ClaimResult): string => `(${c.claim}) ${c.title}: ${pct(c.pooled.mean)} [${pct(c.pooled.lo)}, ${pct(c.pooled.hi)}] points → ${c.pooled.verdict}`;
  const text = [`replication over seeds ${o.seeds.join(', ')}, domains ${o.domains.join(', ')}:`, ...claims.map(line)].join('\n');
  const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const rows = claims.flatMap((c) => [
    `<tr><td>(${c.claim}) ${esc(c.title)}</td><td>pooled</td><td>${pct(c.pooled.mean)}</td><td>[${pct(c.pooled.lo)}, ${pct(c.pooled.hi)}]</td><td><b>${c.pooled.verdict}</b></td></tr>`,
    ...Object.entries(c.parts).map(([k, v]) => `<tr><td></td><td>${esc(k)}</td><td>${pct(v.mean)}</td><td>[${pct(v.lo)}, ${pct(v.hi)}]</td><td>${v.verdict}</td></tr>`),
    ...(c.secondary ? [`<tr><td></td><td>level difference</td><td>${pct(c.secondary.pooled.mean)}</td><td>[${pct(c.secondary.pooled.lo)}, ${pct(c.secondary.pooled.hi)}]</td><td>${c.secondary.pooled.verdict}</td></tr>`] : []),
  ]);
  const models = Object.keys(accuracy).sort();
  const setNames = [...new Set(models.flatMap((m) => Object.keys(accuracy[m] ?? {})))].sort();
  const accRows = models.map((m) => `<tr><td>${esc(m)}</td>${setNames.map((s) => `<td>${accuracy[m]?.[s] === undefined ? '–' : pct(accuracy[m][s])}</td>`).join('')}</tr>`);
  const html = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>warmup replication</title>
<style>body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1000px}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}</style></head>
<body><h1>Replication: the four claims in the toy world</h1>
<p>Plan: <code>results/PLAN.md</code>. Seeds ${o.seeds.join(', ')}; target domains ${esc(o.domains.join(', '))}. Differences in percentage points with 95% paired-bootstrap intervals over seeds and items; verdict: reproduced if the interval lies above 0, not reproduced if it lies below +2, inconclusive otherwise.</p>
<table><thead><tr><th>claim</th><th>part</th><th>estimate</th><th>95% interval</th><th>verdict</th></tr></thead><tbody>${rows.join('')}</tbody></table>
<h2>Accuracy (%, mean over seeds, greedy, held-out sets)</h2>
<table><thead><tr><th>model</th>${setNames.map((s) => `<th>${esc(s)}</th>`).join('')}</tr></thead><tbody>${accRows.join('')}</tbody></table>
<h2>Held-out sets (SHA-256)</h2><pre>${esc(JSON.stringify(sets.sha256, null, 2))}</pre>
</body></html>
`;
  await writeFile(join(dir, 'report.html'), html);
  return { text };
}
