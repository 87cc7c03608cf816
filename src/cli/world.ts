/**
 * `warmup world sets` (the toy world's question sets per domain: held-out test, dev, RL)
 * and `warmup world corpus` (the pretraining corpus of its base, with every question
 * set's items excluded).
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { readRows } from '../data/dataset.js';
import { CORPORA, DEFAULT_KK_SIZES, DEFAULT_SPLIT_SIZES, DOMAINS, itemKey, KK_SPLITS, makeKKSplits, makeCorpus, makeSplits, replayRows, SPLITS, type CorpusConfig, type WorldVersion } from '../world/world.js';
import { intOption, numberOption, printJson } from './common.js';
import { inductionRow } from '../world/induction.js';
import { Rng } from '../util/rng.js';

/** Writes `text` to `path` through a temporary file beside it (the folder is created). */
async function writeAtomic(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, text);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

async function writeSets(flags: { out: string; seed: number; test: number; dev: number; rl: number; kkTest: number; kkDev: number; json?: boolean }): Promise<void> {
  const hashes: Record<string, string> = {};
  for (const domain of DOMAINS) {
    const sets = makeSplits(domain, flags.seed, { test: flags.test, dev: flags.dev, rl: flags.rl });
    for (const split of SPLITS) {
      const text = sets[split].map((r) => JSON.stringify(r)).join('\n') + '\n';
      const path = join(flags.out, domain, `${split}.jsonl`);
      await writeAtomic(path, text);
      hashes[`${domain}/${split}.jsonl`] = sha256(text);
    }
  }
  const kk = makeKKSplits(flags.seed, { test: flags.kkTest, dev: flags.kkDev });
  for (const split of KK_SPLITS) {
    const text = kk[split].map((r) => JSON.stringify(r)).join('\n') + '\n';
    await writeAtomic(join(flags.out, 'kk', `${split}.jsonl`), text);
    hashes[`kk/${split}.jsonl`] = sha256(text);
  }
  await writeAtomic(join(flags.out, 'sets.json'), `${JSON.stringify({ seed: flags.seed, sizes: { test: flags.test, dev: flags.dev, rl: flags.rl, kkTest: flags.kkTest, kkDev: flags.kkDev }, sha256: hashes }, null, 2)}\n`);
  const result = { out: flags.out, seed: flags.seed, files: Object.keys(hashes).length, sha256: hashes };
  if (flags.json) printJson(result);
  else process.stdout.write(`wrote ${Object.keys(hashes).length} sets to ${flags.out} (hashes in ${join(flags.out, 'sets.json')})\n`);
}

/**
 * Sets an earlier corpus excluded and no run evaluates any more: `DIR/retired/DOMAIN/SPLIT.jsonl`
 * (the v3 world's code sets). Their items stay excluded, so that corpus rebuilds byte for byte.
 */
const RETIRED = 'retired';

/** Every item key in a sets folder written by `world sets`, and in its retired sets. */
export async function setKeys(dir: string): Promise<Set<string>> {
  const keys = new Set<string>();
  for (const domain of DOMAINS) {
    for (const split of SPLITS) {
      const path = join(dir, domain, `${split}.jsonl`);
      try {
        await readFile(path);
      } catch {
        throw new Error(`--sets ${dir}: ${path} is missing; write the sets first with warmup world sets --out ${dir}`);
      }
      for await (const r of readRows(path)) keys.add(itemKey(r));
      const retired = join(dir, RETIRED, domain, `${split}.jsonl`);
      if (existsSync(retired)) for await (const r of readRows(retired)) keys.add(itemKey(r));
    }
  }
  return keys;
}

/** The corpus of `warmup world corpus --frame V --seed SEED --scale SCALE`, reading and repeat documents aside. */
function corpusConfig(version: WorldVersion, seed: number | undefined, scale: number, reading = 0, repeats = 0): CorpusConfig {
  const base = CORPORA[version];
  const scaled = (n: number): number => Math.round(n * scale);
  return {
    version,
    seed: seed ?? base.seed,
    items: { math: scaled(base.items.math), code: scaled(base.items.code), mc: scaled(base.items.mc) },
    factParagraphs: scaled(base.factParagraphs),
    arithmeticLines: scaled(base.arithmeticLines),
    readingDocs: scaled(reading),
    repeatDocs: scaled(repeats),
  };
}

async function writeCorpus(flags: { out: string; sets: string; frame: WorldVersion; seed?: number; scale: number; reading: number; repeats: number; json?: boolean }): Promise<void> {
  const exclude = await setKeys(flags.sets);
  const config = corpusConfig(flags.frame, flags.seed, flags.scale, flags.reading, flags.repeats);
  const lines: string[] = [];
  const kinds: Record<string, number> = {};
  for (const doc of makeCorpus(config, exclude)) {
    lines.push(JSON.stringify({ text: doc.text, kind: doc.kind }));
    kinds[doc.kind] = (kinds[doc.kind] ?? 0) + 1;
  }
  const text = lines.join('\n') + '\n';
  await writeAtomic(flags.out, text);
  const result = { out: flags.out, documents: lines.length, kinds, excluded_keys: exclude.size, sha256: sha256(text), config };
  if (flags.json) printJson(result);
  else process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

async function writeReplay(flags: { out: string; sets: string; rows: number; seed: number; frame: WorldVersion; corpusSeed?: number; scale: number; json?: boolean }): Promise<void> {
  const config = corpusConfig(flags.frame, flags.corpusSeed, flags.scale);
  const rows = replayRows(config, await setKeys(flags.sets), flags.rows, flags.seed);
  const text = `${rows.map((r) => JSON.stringify({ prompt: r.prompt, completion: r.answer, kind: r.domain })).join('\n')}\n`;
  await writeAtomic(flags.out, text);
  const kinds = Object.fromEntries(DOMAINS.map((d) => [d, rows.filter((r) => r.domain === d).length]));
  const result = { out: flags.out, rows: rows.length, kinds, seed: flags.seed, version: config.version, corpus_seed: config.seed, scale: flags.scale, sha256: sha256(text) };
  if (flags.json) printJson(result);
  else process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

async function writeInduction(flags: { out: string; rows: number; names: number; seed: number; json?: boolean }): Promise<void> {
  const rng = new Rng(flags.seed);
  const text = `${Array.from({ length: flags.rows }, () => JSON.stringify({ text: inductionRow(rng, flags.names) })).join('\n')}\n`;
  await writeAtomic(flags.out, text);
  const result = { out: flags.out, rows: flags.rows, names: flags.names, seed: flags.seed, sha256: sha256(text) };
  if (flags.json) printJson(result);
  else process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

function frameOption(value: string): WorldVersion {
  if (value !== '3' && value !== '4') throw new InvalidArgumentError(`--frame must be 3 or 4, got ${JSON.stringify(value)}`);
  return Number(value) as WorldVersion;
}

export function worldCommand(): Command {
  const world = new Command('world').description('the toy world: target-domain question sets (math, code, multiple choice) and the pretraining corpus of its base');
  world
    .command('sets')
    .description('write the held-out test, dev and RL sets of every domain as DIR/DOMAIN/SPLIT.jsonl, with their hashes in DIR/sets.json')
    .requiredOption('--out <dir>', 'folder to write')
    .option('--seed <n>', 'seed of the sets', intOption('--seed', 0, 0xffffffff), 0)
    .option('--test <n>', 'held-out items per domain (nothing is tuned on them)', intOption('--test', 1), DEFAULT_SPLIT_SIZES.test)
    .option('--dev <n>', 'dev items per domain (tune on these)', intOption('--dev', 0), DEFAULT_SPLIT_SIZES.dev)
    .option('--rl <n>', 'RL items per domain (the paper: at most 100)', intOption('--rl', 1), DEFAULT_SPLIT_SIZES.rl)
    .option('--kk-test <n>', 'held-out K&K puzzles of 2–3 people (kk/test.jsonl)', intOption('--kk-test', 1), DEFAULT_KK_SIZES.test)
    .option('--kk-dev <n>', 'dev K&K puzzles of 2–3 people (kk/dev.jsonl)', intOption('--kk-dev', 0), DEFAULT_KK_SIZES.dev)
    .option('--json', 'print the summary as JSON')
    .action(writeSets);
  world
    .command('corpus')
    .description('write the base model pretraining corpus (JSONL, a text column): questions with direct answers, creature facts and arithmetic facts; no K&K, no chain of thought, no item of the sets')
    .requiredOption('--out <file>', 'corpus .jsonl to write')
    .requiredOption('--sets <dir>', 'the sets written by warmup world sets: their items, and those of its retired/ sets, are excluded')
    .option('--frame <v>', "the world's frame: 4 (multiple choice answered with the option's text, facts in several shapes, code that needs a creature's legs) or 3 (letters, one shape, code from operations alone: the shipped base's second phase)", frameOption, 4)
    .option('--seed <n>', 'seed of the corpus (default: 1 for v3, 2 for v4, as the shipped base)', intOption('--seed', 0, 0xffffffff))
    .option('--scale <x>', "multiplies every document count of the version's corpus (v3: 112,000 documents; v4: 61,000)", numberOption('--scale', 0.0001, 100), 1)
    .option('--reading <n>', 'reading documents (a list read back, who has which job, who said what), scaled too (the shipped base: 40,000 in v3, 10,000 in v4)', intOption('--reading', 0), 0)
    .option('--repeats <n>', 'repeat documents (a sequence of names said again after 0–2 plain documents), scaled too (the shipped base: 16,000 in v3, 4,000 in v4)', intOption('--repeats', 0), 0)
    .option('--json', 'print the summary as JSON')
    .action(writeCorpus);
  world
    .command('replay')
    .description("write rehearsal rows (JSONL: prompt, completion, kind) to mix into a warmup (sft --data TRACES --data REPLAY): question → direct-answer pairs drawn from the question documents of the base's own corpus, in equal shares per domain, so the warmup keeps the base's answers without new target-domain data (results/LAB.md, probe 26)")
    .requiredOption('--out <file>', '.jsonl to write')
    .requiredOption('--sets <dir>', 'the sets the corpus excluded (as for warmup world corpus)')
    .requiredOption('--rows <n>', 'rows to write', intOption('--rows', 1))
    .option('--seed <n>', 'seed of the draw', intOption('--seed', 0, 0xffffffff), 0)
    .option('--frame <v>', "frame of the base's corpus to draw from: 4 (the shipped base's last phase, in the frame of every set) or 3", frameOption, 4)
    .option('--corpus-seed <n>', "seed of the base's corpus (default: the shipped base's, 1 for v3, 2 for v4)", intOption('--corpus-seed', 0, 0xffffffff))
    .option('--scale <x>', "scale of the base's corpus (the shipped base: 1)", numberOption('--scale', 0.0001, 100), 1)
    .option('--json', 'print the summary as JSON')
    .action(writeReplay);
  world
    .command('induction')
    .description('write induction rows (JSONL, a text column): a random sequence of the world\'s names repeated to fill the row, a first pretraining phase that teaches a small base to copy from context (results/LAB.md, probes 16–19)')
    .requiredOption('--out <file>', '.jsonl to write')
    .option('--rows <n>', 'rows to write', intOption('--rows', 1), 38_000)
    .option('--names <n>', 'names per row (one token each in the world tokenizer)', intOption('--names', 2), 96)
    .option('--seed <n>', 'seed of the rows', intOption('--seed', 0, 0xffffffff), 1)
    .option('--json', 'print the summary as JSON')
    .action(writeInduction);
  return world;
}
