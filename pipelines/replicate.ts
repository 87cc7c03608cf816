/**
 * The replication (results/PLAN.md): the paper's four claims in the toy world, over
 * seeds, with paired-bootstrap intervals and verdicts.
 *
 *   warmup run pipelines/replicate.ts [--preset default|v1|v3|minimal] [--set key=value …] [--out DIR]
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
 * report.json and report.html beside them. Settings are pipelines/two-stage.ts's
 * presets: the default is its `v4` (rehearsal; with it, a control arm gets the same SFT
 * on the rehearsal rows alone, and claim (i) compares the warm model with it); `v3` is
 * the numbered warmup without rehearsal (results/replication-v3), `v1` the first replication
 * (results/replication).
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { collectReport, writeEvalCell, writeReplicationReport, type Pipeline } from 'warmup';
import twoStage, { recipeCommands } from './two-stage.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Every key of a two-stage recipe, and the replication's own. */
type Config = typeof twoStage.presets.default & {
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

/** Replication v5 (results/PLAN.md, amendment 3): replication v4's recipe in the v4 world (base, code sets, option-text multiple choice). */
const replicate: Config = { ...twoStage.presets.v5, seeds: '0,1,2', domains: 'math,code,mc', cells: 'results/replication-v5', resamples: 10_000 };
/** Replication v4 (results/PLAN.md, amendment 2): the rehearsal warmup, with its replay-only control arm, from the v3 base. */
const v4: Config = { ...twoStage.presets.v4, seeds: '0,1,2', domains: 'math,code,mc', cells: 'results/replication-v4', resamples: 10_000 };
/** Replication v3 (amendment 1): the numbered warmup without rehearsal, as reported in results/replication-v3. */
const v3: Config = { ...twoStage.presets.v3, seeds: '0,1,2', domains: 'math,code,mc', cells: 'results/replication-v3', resamples: 10_000 };
/** The first replication (v1 base and recipe), as reported in results/replication. */
const v1: Config = { ...twoStage.presets.v1, seeds: '0,1,2', domains: 'math,code,mc', cells: 'results/replication', resamples: 10_000 };

export default {
  name: 'replicate',
  description: "the paper's four claims over seeds and target domains, with paired-bootstrap intervals and verdicts",
  presets: {
    default: replicate,
    v1,
    v3,
    v4,
    // For tests: two seeds, two domains, rehearsal and its control, every stage, in seconds.
    minimal: { ...twoStage.presets.minimal, replay: 0.1, seeds: '0,1', domains: 'math,mc', cells: '', resamples: 500, rlSteps: 4 },
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
        await ctx.warmup(['eval', '--model', model, '--bench', setFile(set), '--n', '1', '--limit', String(c.evalLimit), '--max-new-tokens', String(recipeCommands.evalMaxNewTokens(c, set)), '--temperature', '0', '--seed', String(seed ?? 0), '--out', out, '--quiet']);
        // 'warm-rl-math_at0.25-s1' → model 'warm-rl-math@0.25' of seed 1.
        await writeEvalCell(out, cellsDir, `${name}-${set}`, { model: name.replace(/-s\d+$/, '').replace(/_at(?=[\d.]+$)/, '@'), set, seed });
      });

    for (const set of [...domains, 'kk']) await evaluate('base', base, set, null);
    for (const seed of seeds) {
      const s = `s${seed}`;
      await ctx.stage(`puzzles-${s}`, () => ctx.warmup(recipeCommands.puzzles(c, 1000 + seed, exclude, p(s, 'puzzles.arrow'))));
      await ctx.stage(`traces-${s}`, () => ctx.warmup(recipeCommands.traces(c, p(s, 'puzzles.arrow'), p(s, 'traces.arrows'))));
      const replay = recipeCommands.replay(c, 1000 + seed, p(s, 'replay.jsonl'));
      if (replay) {
        await ctx.stage(`replay-${s}`, () => ctx.warmup(replay));
        // The control arm: the same SFT on the rehearsal rows alone, so claim (i) measures the traces, not the rate.
        await ctx.stage(`sft-control-${s}`, () => ctx.warmup(recipeCommands.sft(c, { base, data: [p(s, 'replay.jsonl')], out: p(s, 'control'), metrics: p(s, 'control-sft', 'metrics.arrows'), seed, quiet: true })));
        for (const set of domains) await evaluate(`control-${s}`, p(s, 'control'), set, seed);
      }
      const warmData = replay ? [p(s, 'traces.arrows'), p(s, 'replay.jsonl')] : [p(s, 'traces.arrows')];
      await ctx.stage(`sft-${s}`, () => ctx.warmup(recipeCommands.sft(c, { base, data: warmData, out: p(s, 'warm'), metrics: p(s, 'sft', 'metrics.arrows'), seed, quiet: true })));
      for (const set of [...domains, 'kk']) await evaluate(`warm-${s}`, p(s, 'warm'), set, seed);
      for (const d of domains) {
        for (const [arm, from] of [['base', base], ['warm', p(s, 'warm')]] as const) {
          const run = p(s, `rl-${arm}-${d}`);
          await ctx.stage(`rl-${arm}-${d}-${s}`, () => ctx.warmup(recipeCommands.rlvr(c, { from, data: at(join('data', 'world', d, 'rl.jsonl')), out: run, seed, saveEvery: quarter })));
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
      const sets = JSON.parse(await readFile(at('data/world/sets.json'), 'utf8')) as { sha256: Record<string, string> };
      const rl = Object.fromEntries(Object.entries((await collectReport(ctx.dir)).rl).map(([run, r]) => [run, r.learning]));
      const report = await writeReplicationReport(cellsDir, { seeds, domains, fractions: FRACTIONS, resamples: c.resamples, setHashes: sets.sha256, config: c, rl, ...(c.replay > 0 ? { control: 'control' } : {}) });
      ctx.log(report.text);
    });
  },
} satisfies Pipeline<Config>;
