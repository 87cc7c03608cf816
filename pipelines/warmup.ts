/**
 * Stage one alone: K&K puzzles → teacher traces → filter → SFT warmup → checkpoint.
 *
 *   warmup run pipelines/warmup.ts [--preset default|paper] [--set key=value …]
 *
 * `paper` is the paper's data recipe (4,500 puzzles of 3–7 people, 4 traces each)
 * with an OpenAI-compatible teacher (set teacherUrl and teacherModel, e.g. a vLLM
 * server running QwQ-32B) and a student checkpoint to warm up (set base).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Pipeline } from 'warmup';

type Config = {
  /** Student checkpoint to warm up, or '' for a fresh student of `preset`. */
  base: string;
  preset: string;
  people: string;
  puzzles: number;
  /** 'symbolic' (embedded, exact) or 'openai'. */
  teacher: string;
  teacherUrl: string;
  teacherModel: string;
  samples: number;
  filter: string;
  verbosity: string;
  epochs: number;
  lr: number;
  batchSize: number;
  maxLength: number;
  seed: number;
};

const embedded: Config = { base: '', preset: 'tiny', people: '3-4', puzzles: 800, teacher: 'symbolic', teacherUrl: '', teacherModel: '', samples: 1, filter: 'correct-only', verbosity: 'short', epochs: 2, lr: 2e-3, batchSize: 8, maxLength: 512, seed: 0 };

export default {
  name: 'warmup',
  description: 'puzzles → teacher traces → filter → SFT warmup → checkpoint',
  presets: {
    default: embedded,
    paper: { ...embedded, people: '3-7', puzzles: 4500, teacher: 'openai', samples: 4, filter: 'all', epochs: 3, lr: 1e-5, maxLength: 8192 },
  },
  async run(ctx) {
    const c = ctx.config;
    const p = ctx.path.bind(ctx);
    if (c.teacher === 'openai' && (!c.teacherUrl || !c.teacherModel)) throw new Error("teacher 'openai' needs --set teacherUrl=http://HOST:PORT/v1 --set teacherModel=NAME");
    await ctx.stage('puzzles', () => ctx.warmup(['kk', 'generate', '--people', c.people, '--count', String(c.puzzles), '--seed', String(c.seed + 1), '--out', p('puzzles.arrow'), '--quiet']));
    await ctx.stage('traces', () =>
      ctx.warmup([
        'traces', '--puzzles', p('puzzles.arrow'), '--teacher', c.teacher, '--n', String(c.samples), '--filter', c.filter, '--out', p('traces.arrows'), '--quiet',
        ...(c.teacher === 'openai' ? ['--base-url', c.teacherUrl, '--model', c.teacherModel] : ['--verbosity', c.verbosity]),
      ]),
    );
    await ctx.stage('base', () => (c.base ? Promise.resolve() : ctx.warmup(['init', '--preset', c.preset, '--seed', String(c.seed), '--out', p('base')])));
    await ctx.stage('sft', () =>
      ctx.warmup([
        'sft', '--model', c.base ? resolve(c.base) : p('base'), '--data', p('traces.arrows'), '--out', p('warm'), '--metrics', p('sft', 'metrics.arrows'),
        '--epochs', String(c.epochs), '--lr', String(c.lr), '--batch-size', String(c.batchSize), '--max-length', String(c.maxLength), '--seed', String(c.seed),
        ...(existsSync(p('warm', 'trainer_state.json')) ? ['--resume'] : []),
      ]),
    );
    await ctx.warmup(['report', ctx.dir]);
    ctx.log(`warmed-up checkpoint: ${p('warm')}`);
  },
} satisfies Pipeline<Config>;
