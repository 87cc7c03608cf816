/**
 * The paper's comparison (Shrestha et al. 2025) in the toy world: from the shipped
 * pretrained base, warm up on K&K chain-of-thought traces (no target-domain data), run
 * the same RLVR on the same 100 examples of one target domain from the base and from
 * the warm model, and evaluate all four (base, warm, base+RL, warm+RL) on every
 * domain's held-out set and on held-out K&K.
 *
 *   warmup run pipelines/two-stage.ts [--preset default|start-v4|v1|v3|v4|v5|minimal] [--set key=value …] [--out DIR]
 *
 * The default preset is `npm start`: the world base (data/models/world-base), the
 * symbolic teacher, and the sets that ship in data/world; `start-v4` is the `npm start`
 * of sessions 13–14 (numbered traces, RL on math); `v1` is the first world's
 * recipe on data/models/world-base-v1; `v3` the numbered warmup without rehearsal
 * (replication v3); `v4` and `v5` replications v4 and v5's rehearsal recipe. `--set base=` starts from a
 * fresh random student of `preset` instead; `--set base=PATH` from any checkpoint.
 * The table gives accuracy with its 95% bootstrap interval over questions, and the
 * format score (answers that parse) beside it; the report has the RL curves.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Pipeline } from 'warmup';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

type Config = {
  /** A checkpoint folder to start from, or '' for a fresh student of `preset`. */
  base: string;
  preset: string;
  /** Warmup puzzles: people per puzzle (N, LOW-HIGH or a list, with `puzzles` split evenly; or N:COUNT,M:COUNT, with `puzzles` 0); held-out and dev puzzles are excluded. */
  people: string;
  puzzles: number;
  /** Puzzle files never to warm up on (comma-separated). */
  exclude: string;
  /** Symbolic teacher style: cases (check assignments in order; learnable by a small student) or search. */
  style: string;
  /** Symbolic teacher verbosity, for the search style (short keeps traces within a CPU budget). */
  verbosity: string;
  /** Rehearsal: rows of the base's own question → answer documents mixed into the warmup, per warmup trace (0: none; `warmup world replay`). */
  replay: number;
  /** The world frame of the base's last corpus, which the rehearsal rows come from (`world replay --frame`): 4 for the v4 base, 3 for v3. */
  replayFrame: number;
  sftEpochs: number;
  sftLr: number;
  /** SFT learning-rate schedule after its warmup steps: cosine or constant. */
  sftSchedule: string;
  /** Pull toward the base during the warmup (`sft --anchor-decay`; 0: off). */
  sftAnchorDecay: number;
  sftBatch: number;
  /** Pack several traces per row (false: one per row, bucketed by length). */
  packing: boolean;
  maxLength: number;
  /** RLVR target set (its layout names the reward). */
  target: string;
  rlSteps: number;
  groupSize: number;
  promptsPerStep: number;
  rlLr: number;
  temperature: number;
  maxNewTokens: number;
  /** Evaluation sets (comma-separated) and protocol: `evalN` samples at `evalTemperature` (0: greedy). */
  evalSets: string;
  evalN: number;
  evalLimit: number;
  evalTemperature: number;
  evalMaxNewTokens: number;
  /** New tokens on the K&K set, where a warm model writes a whole case-checking trace first. */
  kkMaxNewTokens: number;
  seed: number;
};

const WORLD_SETS = ['data/world/math/test.jsonl', 'data/world/code/test.jsonl', 'data/world/mc/test.jsonl', 'data/world/kk/test.jsonl'].join(',');

/**
 * The first world's recipe (results/LAB.md, probes 2–4, tuned on dev): the v1 base, a
 * gentle warmup (lr 3e-4, 1,500 three-person search traces) because lr 1e-3 erased that
 * base; RL lr 2e-5 because 1e-4 lowered dev math while the sampled pass rate rose. The
 * first replication (results/replication) ran it.
 */
const v1: Config = {
  base: 'data/models/world-base-v1',
  preset: 'tiny',
  people: '3',
  puzzles: 1500,
  exclude: 'data/world/kk/test.jsonl,data/world/kk/dev.jsonl',
  style: 'search',
  verbosity: 'short',
  replay: 0,
  replayFrame: 4,
  sftEpochs: 1,
  sftLr: 3e-4,
  sftSchedule: 'cosine',
  sftAnchorDecay: 0,
  sftBatch: 8,
  packing: true,
  maxLength: 448,
  target: 'data/world/math/rl.jsonl',
  rlSteps: 60,
  groupSize: 8,
  promptsPerStep: 4,
  rlLr: 2e-5,
  temperature: 0.7,
  maxNewTokens: 160,
  evalSets: WORLD_SETS,
  evalN: 1,
  evalLimit: 400,
  evalTemperature: 0,
  evalMaxNewTokens: 256,
  kkMaxNewTokens: 256,
  seed: 0,
};

/**
 * v3, `npm start` until session 11 and replication v3's recipe (results/LAB.md, probes
 * 21–23, tuned on dev; results/PLAN.md, amendment 1). It and v4 start from the v3 base;
 * the code sets they were evaluated on are retired (data/world/retired/code), so a rerun
 * evaluates today's code sets:
 * the v3 base, which reads back lists, and the numbered warmup that teaches it K&K
 * (probe 22: 44/100 dev after 4,800 traces at a constant 1e-3). Two-person puzzles
 * are every structure outside the held-out and dev sets (99 of the 399); 2,499 traces
 * is what 15 minutes on a 2-core machine without OpenBLAS leaves room for (2,799 took
 * 15 min 43 s with `npm install`). Known from the dev probes: this
 * warmup erases the target domains (dev math, code and multiple choice 0% from step
 * 300 on, at 3e-4 too), so RL from the warm model starts from nothing.
 */
const v3: Config = {
  ...v1,
  base: 'data/models/world-base-v3',
  replayFrame: 3,
  people: '2:99,3:2400',
  puzzles: 0,
  style: 'numbered',
  sftLr: 1e-3,
  sftSchedule: 'constant',
  packing: false,
  maxLength: 768,
  evalLimit: 200,
  kkMaxNewTokens: 720,
};

/**
 * `npm start` of sessions 13–14 (results/LAB.md), run as `--preset start-v4`: the
 * rehearsal recipe (one row of the base's own question → answer documents per four
 * traces, at 3e-4; chosen on dev, probe 26) on 3,600 numbered traces (900 two-person,
 * 2,700 three-person), what 15 minutes on a 2-core machine without OpenBLAS leave room
 * for since the session-13 speedups (4,000 took 15 min 19 s with `npm install`), and
 * RL on math. Replication v5 (below) is this recipe with 7,980 traces.
 */
const startV4: Config = { ...v3, base: 'data/models/world-base', replayFrame: 4, people: '2:900,3:2700', replay: 0.25, sftLr: 3e-4 };

/**
 * `npm start`: `startV4`'s warmup in the named case layout, and RL on code at
 * temperature 1 (results/LAB.md, probe 30, chosen on dev). On the same puzzles and
 * steps, the named layout doubled dev K&K (25.5% against 13.5% numbered: a student
 * copies a claim's names far more easily than it translates them into numbers) at no
 * cost to the targets; RL on code from that warm model learned on its RL set (pass rate
 * +0.23 [0.09, 0.36], 0.41 of rollouts with signal) and on dev code (43.5 → 59.0),
 * where RL on math did neither (+0.05 [−0.01, 0.11]; dev math 20.5 → 16.0).
 */
const embedded: Config = { ...startV4, style: 'cases', target: 'data/world/code/rl.jsonl', temperature: 1 };

/**
 * Replication v4 (results/PLAN.md, amendment 2; results/LAB.md, probe 26e, tuned on
 * dev): the numbered warmup of probe 22 (7,980 traces: the 99 two-person structures
 * outside the held-out and dev sets, 20 times each under other names, and 6,000 of
 * three) with rehearsal, one row of the base's own question → answer documents per four
 * traces, at 3e-4, near the base's last pretraining rate (2e-4). Dev: K&K 45%, math /
 * code / mc 14 / 67 / 35 (base 20 / 100 / 37). About 25 minutes of SFT per seed with
 * OpenBLAS, so it is the replication's recipe, not `npm start`'s.
 */
const v4: Config = { ...startV4, base: 'data/models/world-base-v3', replayFrame: 3, people: '2:1980,3:6000' };

/**
 * Replication v5 (results/PLAN.md, amendment 3): v4's recipe from the v4 base (the
 * world in which multiple choice answers with the option's text and code needs a
 * creature's legs), its rehearsal rows from the v4 corpus.
 */
const v5: Config = { ...startV4, people: '2:1980,3:6000' };

/**
 * The recipe's stage commands, shared with pipelines/replicate.ts so that both run one
 * recipe: what differs between them (seeds, paths, checkpoint cadence) is an argument.
 */
export const recipeCommands = {
  /** Warmup puzzles, none of them in the `exclude` files; a size asked for more than its distinct puzzles repeats their claims under other names. */
  puzzles: (c: Config, seed: number, exclude: readonly string[], out: string): string[] => [
    'kk', 'generate', '--people', c.people, ...(c.people.includes(':') ? [] : ['--count', String(c.puzzles)]), '--seed', String(seed), ...(exclude.length ? ['--exclude', ...exclude] : []), '--repeat', '--out', out, '--quiet',
  ],
  /** The command that writes the warmup's rehearsal rows (`replay` rows per trace); null without rehearsal. */
  replay: (c: Config, seed: number, out: string): string[] | null =>
    c.replay > 0 ? ['world', 'replay', '--sets', resolve(ROOT, 'data/world'), '--frame', String(c.replayFrame), '--rows', String(Math.max(1, Math.round(c.replay * recipeCommands.puzzleCount(c)))), '--seed', String(seed), '--out', out, '--json'] : null,
  /** How many puzzles `puzzles` writes. */
  puzzleCount: (c: Config): number => (c.people.includes(':') ? c.people.split(',').reduce((n, part) => n + Number(part.split(':')[1]), 0) : c.puzzles),
  /** World-frame traces from the symbolic teacher. */
  traces: (c: Config, puzzles: string, out: string): string[] => ['traces', '--puzzles', puzzles, '--teacher', 'symbolic', '--template', 'world', '--style', c.style, '--verbosity', c.verbosity, '--n', '1', '--out', out, '--quiet'],
  /** The warmup SFT; resumes an interrupted run in `out`. */
  sft: (c: Config, o: { base: string; data: readonly string[]; out: string; metrics: string; seed: number; quiet: boolean }): string[] => [
    'sft', '--model', o.base, ...o.data.flatMap((d) => ['--data', d]), '--out', o.out, '--metrics', o.metrics,
    '--epochs', String(c.sftEpochs), '--lr', String(c.sftLr), '--schedule', c.sftSchedule, '--batch-size', String(c.sftBatch), '--max-length', String(c.maxLength), '--seed', String(o.seed),
    ...(c.packing ? [] : ['--no-packing']), ...(c.sftAnchorDecay > 0 ? ['--anchor-decay', String(c.sftAnchorDecay)] : []),
    ...(o.quiet ? ['--quiet'] : []), ...(existsSync(join(o.out, 'trainer_state.json')) ? ['--resume'] : []),
  ],
  /** The new-token limit of an evaluation set ('kk', 'kk-dev' or a target domain's name). */
  evalMaxNewTokens: (c: Config, set: string): number => (set.replace(/-dev$/, '') === 'kk' ? c.kkMaxNewTokens : c.evalMaxNewTokens),
  /** RLVR on `data` from `from`; resumes an interrupted run in `out`. */
  rlvr: (c: Config, o: { from: string; data: string; out: string; seed: number; saveEvery: number }): string[] => [
    'rlvr', '--model', o.from, '--data', o.data, '--out', o.out,
    '--steps', String(c.rlSteps), '--group-size', String(c.groupSize), '--prompts-per-step', String(c.promptsPerStep), '--lr', String(c.rlLr),
    '--temperature', String(c.temperature), '--max-new-tokens', String(c.maxNewTokens), '--save-every', String(o.saveEvery), '--seed', String(o.seed), '--quiet',
    ...(existsSync(join(o.out, 'rollouts.arrows')) ? ['--resume'] : []),
  ],
};

export default {
  name: 'two-stage',
  description: 'world base vs warmed-up base, each with and without RLVR on one target domain, evaluated on every domain',
  presets: {
    default: embedded,
    'start-v4': startV4,
    v1,
    v3,
    v4,
    v5,
    // For tests: every stage, in seconds.
    minimal: { ...embedded, people: '3', puzzles: 40, maxLength: 384, rlSteps: 2, groupSize: 2, promptsPerStep: 2, maxNewTokens: 16, evalLimit: 3, evalMaxNewTokens: 16, kkMaxNewTokens: 16 },
  },
  async run(ctx) {
    const c = ctx.config;
    const at = (p: string): string => resolve(ROOT, p);
    const p = ctx.path.bind(ctx);
    const list = (s: string): string[] => s.split(',').map((x) => x.trim()).filter(Boolean);
    const exclude = list(c.exclude).map(at);
    await ctx.stage('puzzles', () => ctx.warmup(recipeCommands.puzzles(c, c.seed + 1, exclude, p('puzzles.arrow'))));
    await ctx.stage('traces', () => ctx.warmup(recipeCommands.traces(c, p('puzzles.arrow'), p('traces.arrows'))));
    const replay = recipeCommands.replay(c, c.seed + 1, p('replay.jsonl'));
    if (replay) await ctx.stage('replay', () => ctx.warmup(replay));
    await ctx.stage('base', () => (c.base ? Promise.resolve() : ctx.warmup(['init', '--preset', c.preset, '--seed', String(c.seed), '--out', p('base')])));
    const base = c.base ? at(c.base) : p('base');
    await ctx.stage('sft', () => ctx.warmup(recipeCommands.sft(c, { base, data: replay ? [p('traces.arrows'), p('replay.jsonl')] : [p('traces.arrows')], out: p('warm'), metrics: p('sft', 'metrics.arrows'), seed: c.seed, quiet: false })));
    const rl = (name: string, from: string) => ctx.stage(name, () => ctx.warmup(recipeCommands.rlvr(c, { from, data: at(c.target), out: p(name), seed: c.seed, saveEvery: 0 })));
    await rl('rl-base', base);
    await rl('rl-warm', p('warm'));
    const models: [string, string][] = [['base', base], ['warm', p('warm')], ['base-rl', p('rl-base', 'last')], ['warm-rl', p('rl-warm', 'last')]];
    for (const set of list(c.evalSets)) {
      // data/world/math/test.jsonl → "math", data/world/math/dev.jsonl → "math-dev"; any other file by its name.
      const file = basename(set);
      const setName = file === 'test.jsonl' ? basename(dirname(set)) : file === 'dev.jsonl' ? `${basename(dirname(set))}-dev` : file.replace(/\.(jsonl|parquet|arrow)(\.gz)?$/, '');
      for (const [name, dir] of models) {
        await ctx.stage(`eval-${name}-${setName}`, () =>
          ctx.warmup([
            'eval', '--model', dir, '--bench', at(set), '--n', String(c.evalN), '--limit', String(c.evalLimit), '--max-new-tokens', String(recipeCommands.evalMaxNewTokens(c, setName)),
            '--temperature', String(c.evalTemperature), '--top-p', '0.95', '--seed', String(c.seed), '--out', join(p('eval'), name, setName), '--quiet',
          ]),
        );
      }
    }
    await ctx.warmup(['report', ctx.dir]); // prints the four-way table and where the report is
  },
} satisfies Pipeline<Config>;
