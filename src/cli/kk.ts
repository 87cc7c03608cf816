/** `warmup kk …`: generate and re-check Knights & Knaves datasets. */
import { readFile } from 'node:fs/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import { checkReadable, formatOf, readRows, writeRows } from '../data/dataset.js';
import { puzzleFromRecord, puzzleToRecord } from '../kk/records.js';
import { PUZZLES, withRunMetadata } from '../data/schemas.js';
import { checkRecord, type CheckResult } from '../kk/check.js';
import { generatePuzzles, makeKKConfig, splitCount, structureKey, type KKConfig } from '../kk/generator.js';
import { parseRolePair } from '../kk/names.js';
import type { RolePair } from '../kk/names.js';
import { checkSeed } from '../util/rng.js';
import { intOption, parsePeopleSpec, printJson, setExitCode, type PeopleSpec } from './common.js';
import { Progress } from './progress.js';

interface GenerateFlags {
  people: PeopleSpec;
  count: number;
  seed: number;
  out: string;
  depth: number;
  width: number;
  roles: RolePair;
  names?: string;
  templates?: string;
  exclude?: string[];
  repeat?: boolean;
  quiet?: boolean;
}

/**
 * What the files of `--exclude` rule out: each row's `id`, as `kk generate` writes it,
 * and, where the row has its claims (`statements`), its structure, so that the same
 * puzzle under other names is ruled out too.
 */
async function excludedIds(files: readonly string[]): Promise<Set<string>> {
  const ids = new Set<string>();
  for (const file of files) {
    await checkReadable(file);
    let index = 0;
    for await (const row of readRows(file)) {
      index++;
      if (typeof row.id !== 'string') throw new Error(`--exclude ${file} row ${index}: no string 'id' column (found: ${Object.keys(row).join(', ')}); give a puzzles file written by warmup kk generate or warmup world sets`);
      ids.add(row.id);
      if (row.statements !== undefined) ids.add(structureKey(puzzleFromRecord(row, index - 1).statements));
    }
  }
  return ids;
}

async function listFromFlag(value: string, what: string): Promise<string[]> {
  if (value.startsWith('@')) {
    const text = await readFile(value.slice(1), 'utf8').catch((e: unknown) => {
      throw new Error(`cannot read the ${what} file ${value.slice(1)}: ${(e as Error).message}`);
    });
    return text.split('\n').map((l) => l.trim()).filter((l) => l.length > 0 && !l.startsWith('#'));
  }
  return value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

async function generate(flags: GenerateFlags): Promise<void> {
  formatOf(flags.out); // fail on a bad extension before any work
  const partial: Partial<KKConfig> = { depth: flags.depth, width: flags.width, roles: flags.roles };
  const config = makeKKConfig({
    ...partial,
    ...(flags.names ? { names: await listFromFlag(flags.names, 'names') } : {}),
    ...(flags.templates
      ? { templates: flags.templates.startsWith('@') ? await listFromFlag(flags.templates, 'templates') : [flags.templates] }
      : {}),
  });
  const runConfig = {
    command: 'kk generate',
    people: flags.people.people,
    ...(flags.people.counts ? { counts: flags.people.counts } : {}),
    count: flags.count,
    seed: flags.seed,
    ...(flags.exclude?.length ? { exclude: flags.exclude } : {}),
    ...(flags.repeat ? { repeat: true } : {}),
    depth: config.depth,
    width: config.width,
    roles: config.roles,
    names: flags.names ? config.names : 'default',
    templates: flags.templates ? config.templates : 'default',
  };
  const exclude = await excludedIds(flags.exclude ?? []);
  const progress = new Progress({ label: 'generating', total: flags.count, unit: 'puzzles', quiet: flags.quiet === true });
  const perSize = flags.people.counts ?? splitCount(flags.count, flags.people.people);
  async function* records() {
    let n = 0;
    for (const p of generatePuzzles({ people: flags.people.people, count: flags.count, counts: perSize, seed: flags.seed, config, exclude, repeat: flags.repeat === true })) {
      yield puzzleToRecord(p);
      if (++n % 512 === 0) {
        progress.update(n, `N=${p.names.length}`);
        await new Promise((r) => setImmediate(r));
      }
    }
    progress.update(n);
  }
  const rows = await writeRows(flags.out, withRunMetadata(PUZZLES, runConfig), records());
  progress.finish(`wrote ${flags.out}`);
  if (!flags.quiet) {
    const sizes = flags.people.people.map((n, i) => `N=${n}: ${perSize[i]}`).join(', ');
    process.stderr.write(`${rows} puzzles (${sizes}) -> ${flags.out}\n`);
  }
}

function rowToCheck(row: Record<string, unknown>, index: number) {
  const { quiz, names, solution } = row;
  if (typeof quiz !== 'string') {
    throw new Error(`row ${index}: no 'quiz' text column (found: ${Object.keys(row).join(', ')})`);
  }
  const roles = Array.isArray(row.roles) && row.roles.length === 2 ? { truthful: String(row.roles[0]), liar: String(row.roles[1]) } : undefined;
  return {
    id: typeof row.id === 'string' ? row.id : typeof row.index === 'number' ? String(row.index) : String(index),
    quiz,
    ...(Array.isArray(names) ? { names: names.map(String) } : {}),
    ...(Array.isArray(solution) ? { solution: solution.map((v) => v === true) } : {}),
    ...(roles ? { roles } : {}),
  };
}

/** The summary `kk solve` prints. */
export interface SolveSummary {
  file: string;
  records: number;
  parsed: number;
  unique: number;
  agree: number;
  failures: { row: number; id: string; reason: string }[];
}

async function solveFile(file: string, flags: { json?: boolean; failures: number; quiet?: boolean }): Promise<void> {
  await checkReadable(file);
  const summary: SolveSummary = { file, records: 0, parsed: 0, unique: 0, agree: 0, failures: [] };
  const progress = new Progress({ label: 'checking', unit: 'records', quiet: flags.quiet === true || flags.json === true });
  const tally = (r: CheckResult, row: number): void => {
    summary.records++;
    if (r.parsed) summary.parsed++;
    if (r.unique) summary.unique++;
    if (r.agree) summary.agree++;
    else if (summary.failures.length < flags.failures) summary.failures.push({ row, id: r.id, reason: r.reason ?? '' });
  };
  let row = 0;
  let error: unknown = null;
  try {
    for await (const record of readRows(file)) {
      tally(checkRecord(rowToCheck(record, row)), row);
      row++;
      progress.update(row);
    }
  } catch (e) {
    error = e; // report what was checked, then the error
  }
  progress.finish();
  if (flags.json) printJson(error ? { ...summary, error: (error as Error).message } : summary);
  else {
    const pct = (k: number): string => (summary.records ? `${((100 * k) / summary.records).toFixed(2)}%` : '-');
    process.stdout.write(
      [
        `${file}: ${summary.records} records`,
        `  parsed  ${summary.parsed} (${pct(summary.parsed)})`,
        `  unique  ${summary.unique} (${pct(summary.unique)})`,
        `  agree   ${summary.agree} (${pct(summary.agree)})`,
        ...summary.failures.map((f) => `  row ${f.row} (${f.id}): ${f.reason}`),
        '',
      ].join('\n'),
    );
  }
  if (error) throw error instanceof Error ? error : new Error('checking failed');
  if (summary.records === 0) throw new Error(`${file} has no records`);
  if (summary.agree !== summary.records) setExitCode(1);
}

export function kkCommands(): Command {
  const kk = new Command('kk').description('Knights & Knaves puzzles: generate and re-check datasets');
  kk.command('generate')
    .description('generate seeded puzzles with exactly one solution and write them as a puzzles dataset')
    .requiredOption('--out <file>', 'output file: .arrow, .arrows, .jsonl or .parquet')
    .addOption(
      new Option('--people <n>', 'islanders per puzzle: N, LOW-HIGH or a list N,M (count is split evenly), or N:COUNT,M:COUNT (a count per size; --count is their sum)')
        .default({ people: [3, 4, 5, 6, 7], counts: null }, '3-7, as in the paper')
        .argParser(parsePeopleSpec),
    )
    .addOption(new Option('--count <n>', 'total number of puzzles').default(4500, '4500, as in the paper').argParser(intOption('--count', 0)))
    .option('--seed <n>', 'run seed; the same seed gives the same puzzles', (s) => checkSeed(intOption('--seed', 0, 0xffffffff)(s), '--seed'), 42)
    .option('--depth <n>', 'maximum statement nesting (K&K uses 2)', intOption('--depth', 1, 6), 2)
    .option('--width <n>', 'maximum operands of and/or (K&K uses 2)', intOption('--width', 2, 6), 2)
    .addOption(
      new Option('--roles <pair>', 'role words: a preset (knights, saints, angels, heroes, sages, truth-tellers) or truthful/liar')
        .default(parseRolePair('knights'), 'knights')
        .argParser((s) => {
          try {
            return parseRolePair(s);
          } catch (e) {
            throw new InvalidArgumentError((e as Error).message);
          }
        }),
    )
    .option('--names <list>', 'name pool: comma-separated, or @FILE with one name per line')
    .option('--templates <list>', 'statement frames with {name} and {statement}: one frame, or @FILE with one per line')
    .option('--exclude <files...>', 'puzzle files never to generate from, e.g. held-out sets: their ids, and their claims under any names; each is replaced by another puzzle')
    .option('--repeat', 'where a size has fewer distinct puzzles than asked (2 islanders: 399), use their claims again under other names, each in turn, instead of failing')
    .option('--quiet', 'no progress output')
    .action(function (this: Command, flags: GenerateFlags) {
      const { counts } = flags.people;
      if (!counts) return generate(flags);
      const sum = counts.reduce((a, b) => a + b, 0);
      if (this.getOptionValueSource('count') === 'cli' && flags.count !== sum) {
        throw new Error(`--count ${flags.count} does not match the counts in --people (${sum}); give one or the other`);
      }
      return generate({ ...flags, count: sum });
    });
  kk.command('solve')
    .description(
      're-parse every quiz in FILE, solve it, and compare with the recorded solution; exits 1 unless every record agrees',
    )
    .argument('<file>', 'dataset: .arrow, .arrows, .jsonl(.gz) or .parquet (warmup puzzles or the K&K / Logic-RL format)')
    .option('--json', 'print one JSON object: {records, parsed, unique, agree, failures}')
    .option('--failures <n>', 'how many failures to list', intOption('--failures', 0), 5)
    .option('--quiet', 'no progress output')
    .action((file: string, flags: { json?: boolean; failures: number; quiet?: boolean }) => solveFile(file, flags));
  return kk;
}
