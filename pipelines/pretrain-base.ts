/**
 * The toy world's pretrained base (issue 14): a small generalist that answers the
 * world's math, code and multiple-choice questions directly, with no chain of thought.
 *
 *   warmup run pipelines/pretrain-base.ts [--preset default|v3|v1|minimal|minimal-copying] [--set key=value …] [--out DIR]
 *
 * Stages: the question sets (data/world, shipped; regenerated only if absent) → the
 * corpus (every set item excluded) → world-frame K&K traces (only to train the
 * tokenizer, so names, roles and tags are single tokens; never pretrained on) → the
 * tokenizer → (v3 and after: an induction phase on name rows) → pretraining on the v3
 * corpus → (v4, the default: continued pretraining on the v4 corpus) → the checkpoint
 * copied to `ship` (data/models/world-base for the default preset). The
 * base is pretrained once and shared by every seed of the replication; seeds vary
 * everything after it.
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
  /** Reading documents in the corpus (40,000 for the shipped base, scaled with the corpus; v1 had none). */
  readingDocs: number;
  /** Also train the tokenizer on case-style K&K traces (false for the shipped base). */
  caseTraces: boolean;
  /** Repeat documents in the corpus: names said again after other text (16,000 for the shipped base; v1 had none). */
  repeatDocs: number;
  /** Induction rows for a first pretraining phase that teaches copying (0: no such phase, as for v1; results/LAB.md, probes 16–19). */
  inductionRows: number;
  /** A new model with an LM head of its own (true for the shipped base; probe 18: tied embeddings delayed the copy skill). */
  untie: boolean;
  /**
   * Phase C: continued pretraining on the v4 corpus (multiple choice answered with the
   * option's text, facts in several shapes, code that needs a creature's legs), at this
   * rate (0: no phase C, as for v1 and v3).
   */
  v4Lr: number;
  /** Phase C's corpus: scale, and its reading and repeat documents (10,000 and 4,000 for the shipped base). */
  v4Scale: number;
  v4Reading: number;
  v4Repeats: number;
  /** Start phase C from this v3 checkpoint instead of training phases A and B ('' to train them). */
  v3Base: string;
};

/** v1 (results/LAB.md, probe 1): tied embeddings, the corpus alone; the base of the first replication, shipped as data/models/world-base-v1. */
const v1: Config = { sets: 'data/world', corpusScale: 1, corpusSeed: 1, preset: 'tiny', epochs: 1, lr: 2e-3, batchSize: 16, maxLength: 256, seed: 0, ship: 'data/models/world-base-v1', readingDocs: 0, caseTraces: false, repeatDocs: 0, inductionRows: 0, untie: false, v4Lr: 0, v4Scale: 1, v4Reading: 0, v4Repeats: 0, v3Base: '' };
/**
 * The v3 base (data/models/world-base-v3, and phases A–B of the shipped one): the copying recipe of results/LAB.md,
 * probes 16–21. An untied model crosses the induction plateau on name rows, then learns
 * the whole world corpus with reading and repeat documents. It reads back lists (dev
 * copy 100%, after ~150 tokens of other text 98%), which v1 could not, and a K&K
 * warmup teaches it the numbered procedure (probe 21).
 */
const v3: Config = { ...v1, readingDocs: 40_000, repeatDocs: 16_000, inductionRows: 37_000, untie: true, batchSize: 8, maxLength: 512, ship: 'data/models/world-base-v3' };
/**
 * The shipped base (v4, data/models/world-base): v3, then phase C on the v4 corpus
 * (results/LAB.md, session 14), so that multiple choice answers with the option's text
 * and code needs facts the base holds in part.
 */
const v4: Config = { ...v3, v4Lr: 1e-3, v4Reading: 10_000, v4Repeats: 4_000, ship: 'data/models/world-base' };

export default {
  name: 'pretrain-base',
  description: 'the toy world: question sets → corpus (sets excluded) → tokenizer → pretrained base → data/models/world-base',
  presets: {
    default: v4,
    v3,
    v1,
    /** Seconds: v1's stages on a sliver of the corpus, for tests. */
    minimal: { ...v1, corpusScale: 0.004, epochs: 1, batchSize: 4, maxLength: 128, ship: '' },
    /** Seconds: the shipped recipe's stages on a sliver. */
    'minimal-copying': { ...v4, corpusScale: 0.004, v4Scale: 0.004, inductionRows: 48, batchSize: 4, maxLength: 128, ship: '' },
  },
  async run(ctx) {
    const c = ctx.config;
    const p = ctx.path.bind(ctx);
    const sets = resolve(ROOT, c.sets);
    await ctx.stage('sets', () => (existsSync(join(sets, 'sets.json')) ? Promise.resolve() : ctx.warmup(['world', 'sets', '--out', sets])));
    const resume = (dir: string): string[] => (existsSync(p(dir, 'trainer_state.json')) ? ['--resume'] : []);
    // The v3 corpus and phases A and B (the v3 base), unless phase C starts from a given v3 checkpoint.
    if (!c.v3Base) {
      await ctx.stage('corpus', () => ctx.warmup(['world', 'corpus', '--frame', '3', '--sets', sets, '--scale', String(c.corpusScale), '--seed', String(c.corpusSeed), '--reading', String(c.readingDocs), '--repeats', String(c.repeatDocs), '--out', p('corpus.jsonl'), '--json']));
      await ctx.stage('tokenizer-text', async () => {
        await ctx.warmup(['kk', 'generate', '--people', '3-5', '--count', String(Math.max(60, Math.round(6000 * c.corpusScale))), '--seed', '7', '--out', p('kk.jsonl'), '--quiet']);
        await ctx.warmup(['traces', '--puzzles', p('kk.jsonl'), '--template', 'world', '--n', '1', '--verbosity', 'short', '--out', p('kk-traces.arrows'), '--quiet', '--json']);
        if (c.caseTraces) await ctx.warmup(['traces', '--puzzles', p('kk.jsonl'), '--template', 'world', '--n', '1', '--style', 'cases', '--out', p('kk-cases.arrows'), '--quiet', '--json']);
      });
      await ctx.stage('tokenizer', () => ctx.warmup(['tokenizer', 'train', '--vocab', '2048', '--corpus', p('corpus.jsonl'), '--corpus', p('kk-traces.arrows'), ...(c.caseTraces ? ['--corpus', p('kk-cases.arrows')] : []), '--out', p('tokenizer.json')]));
      // A new model: from the tokenizer, untied if asked (a resumed run keeps what it has).
      const fresh = (dir: string): string[] => ['--tokenizer', p('tokenizer.json'), '--preset', c.preset, ...(c.untie && resume(dir).length === 0 ? ['--untie-embeddings'] : [])];
      if (c.inductionRows > 0) {
        // Phase A: the copy skill on name rows alone, at a constant rate (probes 17–18).
        await ctx.stage('induction', async () => {
          await ctx.warmup(['world', 'induction', '--rows', String(c.inductionRows), '--seed', String(c.corpusSeed), '--out', p('induction.jsonl'), '--json']);
          await ctx.warmup([
            'pretrain', '--data', p('induction.jsonl'), ...fresh('induction'), '--out', p('induction'), '--metrics', p('induction-metrics.arrows'),
            '--epochs', '1', '--lr', String(c.lr), '--schedule', 'constant', '--batch-size', '16', '--max-length', '97', '--seed', String(c.seed),
            '--eval-fraction', '0', '--save-every', '200', '--quiet', ...resume('induction'),
          ]);
        });
      }
      // Phase B resumes its own run, or starts from the induction checkpoint, or from a new model.
      const start = resume('base').length > 0 ? [] : c.inductionRows > 0 ? ['--model', p('induction')] : fresh('base');
      await ctx.stage('pretrain', () =>
        ctx.warmup([
          'pretrain', '--data', p('corpus.jsonl'), ...start, '--out', p('base'), '--metrics', p('pretrain', 'metrics.arrows'),
          '--epochs', String(c.epochs), '--lr', String(c.lr), '--batch-size', String(c.batchSize), '--max-length', String(c.maxLength), '--seed', String(c.seed),
          '--warmup-steps', '50', '--eval-fraction', '0.01', '--save-every', '200', '--quiet', ...resume('base'),
        ]),
      );
    }
    const v3Base = c.v3Base ? resolve(ROOT, c.v3Base) : p('base');
    let last = v3Base;
    if (c.v4Lr > 0) {
      // Phase C: the v4 frame, continued from the v3 base (same tokenizer) at a lower rate.
      await ctx.stage('corpus-v4', () => ctx.warmup(['world', 'corpus', '--frame', '4', '--sets', sets, '--scale', String(c.v4Scale), '--reading', String(c.v4Reading), '--repeats', String(c.v4Repeats), '--out', p('corpus-v4.jsonl'), '--json']));
      await ctx.stage('pretrain-v4', () =>
        ctx.warmup([
          'pretrain', '--data', p('corpus-v4.jsonl'), ...(resume('base-v4').length > 0 ? resume('base-v4') : ['--model', v3Base]), '--out', p('base-v4'), '--metrics', p('pretrain-v4', 'metrics.arrows'),
          '--epochs', '1', '--lr', String(c.v4Lr), '--batch-size', String(c.batchSize), '--max-length', String(c.maxLength), '--seed', String(c.seed),
          '--warmup-steps', '50', '--eval-fraction', '0.01', '--save-every', '200', '--quiet',
        ]),
      );
      last = p('base-v4');
    }
    if (c.ship) {
      await ctx.stage('ship', async () => {
        const to = resolve(ROOT, c.ship);
        await rm(to, { recursive: true, force: true });
        await cp(last, to, { recursive: true, filter: (src) => !/optimizer|trainer_state/.test(src) });
        ctx.log(`shipped the base to ${to}`);
      });
    }
    ctx.log(`base: ${last}`);
  },
} satisfies Pipeline<Config>;
