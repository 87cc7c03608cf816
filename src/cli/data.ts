/** `warmup data …`: look into and convert datasets. */
import { Command } from 'commander';
import type { Schema } from 'apache-arrow';
import { formatOf, readInfo, readRows, writeRows, type DatasetInfo } from '../data/dataset.js';
import { puzzleFromRecord, puzzleToRecord } from '../kk/records.js';
import { ARTIFACTS, META, withRunMetadata, type Artifact } from '../data/schemas.js';
import { intOption, printJson } from './common.js';
import { Progress } from './progress.js';

const FORMAT_NAMES = { arrow: 'Arrow IPC file', arrows: 'Arrow IPC stream', jsonl: 'JSON Lines', parquet: 'Parquet' } as const;

function columnsOf(schema: Schema | null): { name: string; type: string; nullable: boolean }[] {
  return schema ? schema.fields.map((f) => ({ name: f.name, type: String(f.type), nullable: f.nullable })) : [];
}

function shorten(value: unknown, max = 400): string {
  const text = typeof value === 'string' && !value.includes('\n') ? value : JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text;
}

async function show(file: string, flags: { head: number; json?: boolean }): Promise<void> {
  const info = await readInfo(file);
  const head: Record<string, unknown>[] = [];
  let rows = 0;
  let error: Error | null = null;
  try {
    for await (const r of readRows(file)) {
      if (head.length < flags.head) head.push(r);
      rows++;
    }
  } catch (e) {
    error = e as Error;
  }
  const version = info.schema?.metadata.get(META.version) ?? null;
  if (flags.json) {
    printJson({
      path: file,
      format: info.format,
      artifact: info.artifact,
      schema_version: version === null ? null : Number(version),
      config: info.config ?? null,
      columns: columnsOf(info.schema),
      rows,
      head,
      ...(error ? { error: error.message } : {}),
    });
  } else {
    const lines = [
      `${file}  (${FORMAT_NAMES[info.format]})`,
      `artifact: ${info.artifact ? `${info.artifact} v${version}` : 'none recorded'}`,
      ...(info.config !== undefined ? [`config:   ${shorten(info.config, 300)}`] : []),
      `rows:     ${rows}${error ? ' (complete rows before the error)' : ''}`,
      ...(info.schema ? ['columns:', ...columnsOf(info.schema).map((c) => `  ${c.name}: ${c.type}${c.nullable ? ' (nullable)' : ''}`)] : []),
    ];
    head.forEach((r, i) => {
      lines.push(`--- row ${i} ---`);
      for (const [k, v] of Object.entries(r)) lines.push(`  ${k}: ${shorten(v)}`);
    });
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  if (error) throw error;
}

/** Which warmup artifact a file holds: from its metadata, else from its columns. */
function detectArtifact(info: DatasetInfo, first: Record<string, unknown> | undefined): Artifact<unknown> | 'kk' | null {
  if (info.artifact) return ARTIFACTS[info.artifact];
  const columns = new Set(info.schema ? info.schema.fields.map((f) => f.name) : Object.keys(first ?? {}));
  for (const a of Object.values(ARTIFACTS)) if (a.schema.fields.every((f) => columns.has(f.name))) return a;
  if (columns.has('quiz') && columns.has('names') && columns.has('solution') && columns.has('statements')) return 'kk';
  return null;
}

async function convert(input: string, output: string, flags: { quiet?: boolean }): Promise<void> {
  formatOf(output);
  const info = await readInfo(input);
  let first: Record<string, unknown> | undefined;
  for await (const r of readRows(input)) {
    first = r;
    break;
  }
  const kind = detectArtifact(info, first);
  if (kind === null) {
    const cols = info.schema ? info.schema.fields.map((f) => f.name) : Object.keys(first ?? {});
    throw new Error(
      `cannot tell which dataset ${input} holds (columns: ${cols.join(', ') || 'none'}); ` +
        `convert takes warmup artifacts (${Object.keys(ARTIFACTS).join(', ')}) and K&K puzzle files`,
    );
  }
  const artifact = kind === 'kk' ? ARTIFACTS.puzzles : kind;
  const config = info.config !== undefined ? info.config : { imported_from: input };
  const schema = withRunMetadata(artifact, config);
  const progress = new Progress({ label: 'converting', unit: 'rows', quiet: flags.quiet === true });
  async function* rows() {
    let n = 0;
    for await (const r of readRows(input)) {
      // Puzzles are validated and normalised row by row (this also imports K&K files).
      yield artifact.name === 'puzzles' ? puzzleToRecord(puzzleFromRecord(r, n)) : r;
      progress.update(++n);
    }
  }
  const count = await writeRows(output, schema, rows());
  progress.finish(`${count} rows of ${artifact.name} -> ${output}`);
}

export function dataCommands(): Command {
  const data = new Command('data').description('inspect and convert datasets (.arrow, .arrows, .jsonl, .parquet)');
  data
    .command('show')
    .description('print a dataset\'s format, artifact, config, columns, row count and first rows')
    .argument('<file>', 'dataset file')
    .option('--head <n>', 'rows to print', intOption('--head', 0), 3)
    .option('--json', 'print one JSON object instead')
    .action((file: string, flags: { head: number; json?: boolean }) => show(file, flags));
  data
    .command('convert')
    .description('convert between .arrow, .arrows, .jsonl(.gz) and .parquet; K&K puzzle files are imported as puzzles')
    .argument('<in>', 'input dataset')
    .argument('<out>', 'output dataset; the format follows the extension')
    .option('--quiet', 'no progress output')
    .action((input: string, output: string, flags: { quiet?: boolean }) => convert(input, output, flags));
  return data;
}
