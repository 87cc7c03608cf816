/**
 * The paper's comparison (Shrestha et al. 2025): from one base model, train a
 * warmed-up model on K&K chain-of-thought traces, run the same RLVR on the same small
 * target set from the base and from the warmed-up model, and evaluate all four
 * (base, warm, base+RL, warm+RL) on the same evaluation sets.
 *
 *   warmup run pipelines/two-stage.ts [--preset default|minimal] [--set key=value …] [--out DIR]
 *
 * The default preset is the embedded CPU run of `npm start`: the symbolic teacher, a
 * tiny student, and the target and evaluation sets that ship in data/. On a GPU, or
 * with a Hugging Face base model (--set base=PATH), raise the sizes.
 */
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Pipeline } from 'warmup';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

type Config = {
  /** A checkpoint folder to start from, or '' for a fresh student of `preset`. */
  base: string;
  preset: string;
  /** Warmup puzzles: people per puzzle, count. */
  people: string;
  puzzles: number;
  /** Symbolic teacher verbosity (short keeps traces within a CPU budget). */
  verbosity: string;
  sftEpochs: number;
  sftLr: number;
  sftBatch: number;
  maxLength: number;
  /** RLVR target set and its reward. */
  target: string;
  reward: string;
  rlSteps: number;
  groupSize: number;
  promptsPerStep: number;
  rlLr: number;
  temperature: number;
  maxNewTokens: number;
  /** Evaluation sets and protocol. */
  evalSets: string[];
  evalN: number;
  evalLimit: number;
  evalMaxNewTokens: number;
  seed: number;
};

const embedded: Config = {
  base: '',
  preset: 'tiny',
  people: '3-4',
  puzzles: 600,
  verbosity: 'short',
  sftEpochs: 2,
  sftLr: 2e-3,
  sftBatch: 8,
  maxLength: 512,
  target: 'data/target/kk.jsonl',
  reward: 'kk',
  rlSteps: 8,
  groupSize: 4,
  promptsPerStep: 4,
  rlLr: 2e-5,
  temperature: 0.7,
  maxNewTokens: 256, // the warmed-up student's traces run ~220 tokens (median)
  evalSets: ['data/eval/kk.jsonl', 'data/eval/arith.jsonl'],
  evalN: 2,
  evalLimit: 16,
  evalMaxNewTokens: 256,
  seed: 0,
};

export default {
  name: 'two-stage',
  description: 'base vs warmed-up student, each with and without RLVR, evaluated on the same sets',
  presets: {
    default: embedded,
    // For tests: every stage, in seconds.
    minimal: { ...embedded, puzzles: 40, people: '3', sftEpochs: 1, maxLength: 384, rlSteps: 2, groupSize: 2, promptsPerStep: 2, maxNewTokens: 16, evalN: 2, evalLimit: 3, evalMaxNewTokens: 16 },
  },
  async run(ctx) {
    const c = ctx.config;
    const at = (p: string): string => resolve(ROOT, p);
    const p = ctx.path.bind(ctx);
    await ctx.stage('puzzles', () => ctx.warmup(['kk', 'generate', '--people', c.people, '--count', String(c.puzzles), '--seed', String(c.seed + 1), '--out', p('puzzles.arrow'), '--quiet']));
    await ctx.stage('traces', () => ctx.warmup(['traces', '--puzzles', p('puzzles.arrow'), '--teacher', 'symbolic', '--verbosity', c.verbosity, '--n', '1', '--out', p('traces.arrows'), '--quiet']));
    await ctx.stage('base', () => (c.base ? Promise.resolve() : ctx.warmup(['init', '--preset', c.preset, '--seed', String(c.seed), '--out', p('base')])));
    const base = c.base ? at(c.base) : p('base');
    await ctx.stage('sft', () =>
      ctx.warmup([
        'sft', '--model', base, '--data', p('traces.arrows'), '--out', p('warm'), '--metrics', p('sft', 'metrics.arrows'),
        '--epochs', String(c.sftEpochs), '--lr', String(c.sftLr), '--batch-size', String(c.sftBatch), '--max-length', String(c.maxLength), '--seed', String(c.seed),
        ...(existsSync(p('warm', 'trainer_state.json')) ? ['--resume'] : []),
      ]),
    );
    const rl = (name: string, from: string) =>
      ctx.stage(name, () =>
        ctx.warmup([
          'rlvr', '--model', from, '--data', at(c.target), '--reward', c.reward, '--out', p(name),
          '--steps', String(c.rlSteps), '--group-size', String(c.groupSize), '--prompts-per-step', String(c.promptsPerStep), '--lr', String(c.rlLr),
          '--temperature', String(c.temperature), '--max-new-tokens', String(c.maxNewTokens), '--save-every', '0', '--seed', String(c.seed),
          ...(existsSync(p(name, 'rollouts.arrows')) ? ['--resume'] : []),
        ]),
      );
    await rl('rl-base', base);
    await rl('rl-warm', p('warm'));
    const models: [string, string][] = [['base', base], ['warm', p('warm')], ['base-rl', p('rl-base', 'last')], ['warm-rl', p('rl-warm', 'last')]];
    for (const set of c.evalSets) {
      const setName = basename(set).replace(/\.(jsonl|parquet|arrow)(\.gz)?$/, '');
      for (const [name, dir] of models) {
        await ctx.stage(`eval-${name}-${setName}`, () =>
          ctx.warmup([
            'eval', '--model', dir, '--bench', at(set), '--n', String(c.evalN), '--limit', String(c.evalLimit), '--max-new-tokens', String(c.evalMaxNewTokens),
            '--temperature', String(c.temperature), '--top-p', '0.95', '--seed', String(c.seed), '--out', join(p('eval'), name, setName), '--quiet',
          ]),
        );
      }
    }
    await ctx.warmup(['report', ctx.dir]); // prints the four-way table and where the report is
  },
} satisfies Pipeline<Config>;
