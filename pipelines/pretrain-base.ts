/**
 * The toy world's pretrained base (issue 14): a small generalist that answers the
 * world's math, code and multiple-choice questions directly, with no chain of thought.
 *
 *   warmup run pipelines/pretrain-base.ts [--preset default|minimal] [--set key=value …] [--out DIR]
 *
 * Stages: the question sets (data/world, shipped; regenerated only if absent) → the
 * corpus (every set item excluded) → world-frame K&K traces (only to train the
 * tokenizer, so names, roles and tags are single tokens; never pretrained on) → the
 * tokenizer → pretraining → the checkpoint copied to `ship` (data/models/world-base for
 * the default preset). The base is pretrained once and shared by every seed of the
 * replication; seeds vary everything after it.
 */
import { cp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Pipeline } from 'warmup';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

type Config = {
  /** The question sets folder (its items are excluded from the corpus). */
  sets: string;
  /** Corpus size as a multiple of the default 112,000 documents (5.2M tokens). */
  corpusScale: number;
  corpusSeed: number;
  preset: string;
  epochs: number;
  lr: number;
  batchSize: number;
  maxLength: number;
  seed: number;
  /** Where the finished base is copied ('' to keep it in the run folder only). */
  ship: string;
  /** Reading documents in the corpus (0 for the shipped base; results/LAB.md, probe 6, tried 24,000). */
  readingDocs: number;
  /** Also train the tokenizer on case-style K&K traces (false for the shipped base). */
  caseTraces: boolean;
};

const base: Config = { sets: 'data/world', corpusScale: 1, corpusSeed: 1, preset: 'tiny', epochs: 1, lr: 2e-3, batchSize: 16, maxLength: 256, seed: 0, ship: 'data/models/world-base', readingDocs: 0, caseTraces: false };

export default {
  name: 'pretrain-base',
  description: 'the toy world: question sets → corpus (sets excluded) → tokenizer → pretrained base → data/models/world-base',
  presets: {
    default: base,
    /** Seconds: a sliver of the corpus, for tests. */
    minimal: { ...base, corpusScale: 0.004, epochs: 1, batchSize: 4, maxLength: 128, ship: '' },
  },
  async run(ctx) {
    const c = ctx.config;
    const p = ctx.path.bind(ctx);
    const sets = resolve(ROOT, c.sets);
    await ctx.stage('sets', () => (existsSync(join(sets, 'sets.json')) ? Promise.resolve() : ctx.warmup(['world', 'sets', '--out', sets])));
    await ctx.stage('corpus', () => ctx.warmup(['world', 'corpus', '--sets', sets, '--scale', String(c.corpusScale), '--seed', String(c.corpusSeed), '--reading', String(c.readingDocs), '--out', p('corpus.jsonl'), '--json']));
    await ctx.stage('tokenizer-text', async () => {
      await ctx.warmup(['kk', 'generate', '--people', '3-5', '--count', String(Math.max(60, Math.round(6000 * c.corpusScale))), '--seed', '7', '--out', p('kk.jsonl'), '--quiet']);
      await ctx.warmup(['traces', '--puzzles', p('kk.jsonl'), '--template', 'world', '--n', '1', '--verbosity', 'short', '--out', p('kk-traces.arrows'), '--quiet', '--json']);
      if (c.caseTraces) await ctx.warmup(['traces', '--puzzles', p('kk.jsonl'), '--template', 'world', '--n', '1', '--style', 'cases', '--out', p('kk-cases.arrows'), '--quiet', '--json']);
    });
    await ctx.stage('tokenizer', () => ctx.warmup(['tokenizer', 'train', '--vocab', '2048', '--corpus', p('corpus.jsonl'), '--corpus', p('kk-traces.arrows'), ...(c.caseTraces ? ['--corpus', p('kk-cases.arrows')] : []), '--out', p('tokenizer.json')]));
    await ctx.stage('pretrain', () =>
      ctx.warmup([
        'pretrain', '--data', p('corpus.jsonl'), '--tokenizer', p('tokenizer.json'), '--preset', c.preset, '--out', p('base'), '--metrics', p('pretrain', 'metrics.arrows'),
        '--epochs', String(c.epochs), '--lr', String(c.lr), '--batch-size', String(c.batchSize), '--max-length', String(c.maxLength), '--seed', String(c.seed),
        '--warmup-steps', '50', '--eval-fraction', '0.01', '--save-every', '200', '--quiet',
        ...(existsSync(p('base', 'trainer_state.json')) ? ['--resume'] : []),
      ]),
    );
    if (c.ship) {
      await ctx.stage('ship', async () => {
        const to = resolve(ROOT, c.ship);
        await rm(to, { recursive: true, force: true });
        await cp(p('base'), to, { recursive: true, filter: (src) => !/optimizer|trainer_state/.test(src) });
        ctx.log(`shipped the base to ${to}`);
      });
    }
    ctx.log(`base: ${p('base')}`);
  },
} satisfies Pipeline<Config>;
