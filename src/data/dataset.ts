/**
 * Datasets by file extension: Arrow IPC file (`.arrow`), Arrow IPC stream (`.arrows`),
 * JSON Lines (`.jsonl`, optionally `.gz`) and Parquet (`.parquet`).
 *
 * Rows travel as plain objects keyed by column name. Writers take an explicit schema
 * and never infer one; whole-file formats are written to a temporary file and renamed,
 * so a crash never leaves half a file under the final name. Streams append batch by
 * batch (see `ipc.ts`).
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { createGunzip, createGzip } from 'node:zlib';
import { RecordBatchReader, RecordBatchStreamWriter, type RecordBatch, type Schema } from 'apache-arrow';
import { readParquet, Table as WasmTable, writeParquet } from 'parquet-wasm';
import { ArrowStreamWriter, readArrowBatches, readArrowSchema, writeArrowFile, type ReadOptions } from './ipc.js';
import { batchToRecords, recordsToBatch } from './records.js';
import { artifactOf, configOf, type ArtifactName } from './schemas.js';

/** The file formats warmup reads and writes. */
export type DataFormat = 'arrow' | 'arrows' | 'jsonl' | 'parquet';

/** Thrown for a file whose content does not fit its format. */
export class DataFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataFormatError';
  }
}

const EXTENSIONS: Record<string, DataFormat> = {
  '.arrow': 'arrow',
  '.feather': 'arrow',
  '.arrows': 'arrows',
  '.jsonl': 'jsonl',
  '.jsonl.gz': 'jsonl',
  '.ndjson': 'jsonl',
  '.parquet': 'parquet',
};

/** The format of `path`, from its extension. */
export function formatOf(path: string): DataFormat {
  const lower = path.toLowerCase();
  for (const [ext, format] of Object.entries(EXTENSIONS).sort((a, b) => b[0].length - a[0].length)) {
    if (lower.endsWith(ext)) return format;
  }
  throw new DataFormatError(
    `${path}: unknown file type; use one of ${Object.keys(EXTENSIONS).join(', ')}`,
  );
}

/** What a dataset file declares about itself. */
export interface DatasetInfo {
  readonly path: string;
  readonly format: DataFormat;
  /** The Arrow schema; null for JSON Lines, which has none. */
  readonly schema: Schema | null;
  /** The warmup artifact named in the schema metadata, if any. */
  readonly artifact: ArtifactName | null;
  /** The run config recorded in the schema metadata, if any. */
  readonly config: unknown;
}

async function parquetBatches(path: string): Promise<RecordBatch[]> {
  const bytes = new Uint8Array(await readFile(path));
  let ipc: Uint8Array;
  try {
    ipc = readParquet(bytes).intoIPCStream();
  } catch (e) {
    throw new DataFormatError(`${path}: not a readable Parquet file (${String(e)})`);
  }
  return [...RecordBatchReader.from(ipc)];
}

/** Checks that `path` is a readable file, with a message that names it. */
export async function checkReadable(path: string): Promise<void> {
  const s = await stat(path).catch((e: NodeJS.ErrnoException) => {
    throw new DataFormatError(e.code === 'ENOENT' ? `${path}: no such file` : `${path}: cannot read (${e.message})`);
  });
  if (!s.isFile()) throw new DataFormatError(`${path}: not a file`);
}

/** Reads the schema and metadata of a dataset without reading its rows (Parquet is read whole). */
export async function readInfo(path: string): Promise<DatasetInfo> {
  const format = formatOf(path);
  await checkReadable(path);
  let schema: Schema | null = null;
  if (format === 'arrow' || format === 'arrows') schema = await readArrowSchema(path);
  if (format === 'parquet') {
    const batches = await parquetBatches(path);
    schema = batches[0]?.schema ?? null;
  }
  return {
    path,
    format,
    schema,
    artifact: schema ? (artifactOf(schema)?.name ?? null) : null,
    config: schema ? configOf(schema) : undefined,
  };
}

async function* jsonlRows(path: string): AsyncGenerator<Record<string, unknown>> {
  const raw = createReadStream(path);
  const input = path.toLowerCase().endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  const lines = createInterface({ input, crlfDelay: Infinity });
  let n = 0;
  try {
    for await (const line of lines) {
      n++;
      if (line.trim() === '') continue;
      let row: unknown;
      try {
        row = JSON.parse(line);
      } catch (e) {
        throw new DataFormatError(`${path} line ${n}: not valid JSON (${(e as Error).message})`);
      }
      if (row === null || typeof row !== 'object' || Array.isArray(row)) {
        throw new DataFormatError(`${path} line ${n}: expected a JSON object per line`);
      }
      yield row as Record<string, unknown>;
    }
  } finally {
    lines.close();
    raw.destroy();
  }
}

/**
 * Reads the rows of any supported file as plain objects, one array per record batch
 * (JSON Lines: per 1,024 lines; Parquet is read whole). Arrow files that end in a torn
 * batch yield every complete row, then throw `ArrowTruncatedError`.
 */
export async function* readRowBatches(path: string, options: ReadOptions = {}): AsyncGenerator<Record<string, unknown>[]> {
  const format = formatOf(path);
  await checkReadable(path);
  if (format === 'jsonl') {
    yield* batched(jsonlRows(path), 1024);
    return;
  }
  const batches = format === 'parquet' ? await parquetBatches(path) : readArrowBatches(path, options);
  for await (const batch of batches) yield batchToRecords(batch);
}

/** Reads the rows of any supported file as plain objects (see `readRowBatches`). */
export async function* readRows(path: string, options: ReadOptions = {}): AsyncGenerator<Record<string, unknown>> {
  for await (const rows of readRowBatches(path, options)) yield* rows;
}

/** Options for writing a dataset. */
export interface WriteOptions {
  /** Rows per record batch (Arrow and Parquet). */
  readonly batchSize?: number;
}

async function* batched<T>(rows: AsyncIterable<T> | Iterable<T>, size: number): AsyncGenerator<T[]> {
  let buf: T[] = [];
  for await (const r of rows) {
    buf.push(r);
    if (buf.length >= size) {
      yield buf;
      buf = [];
    }
  }
  if (buf.length > 0) yield buf;
}

async function atomicWrite(path: string, write: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await write(tmp);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/**
 * Writes rows with `schema` to `path` in the format its extension names, and returns
 * the number of rows written. JSON Lines keeps only the schema's columns.
 */
export async function writeRows(
  path: string,
  schema: Schema,
  rows: AsyncIterable<object> | Iterable<object>,
  options: WriteOptions = {},
): Promise<number> {
  const format = formatOf(path);
  // Every format writes beside its target first (a temporary file, then a rename), so
  // the folder must exist: `--out new-dir/x.arrow` creates new-dir.
  await mkdir(dirname(path), { recursive: true });
  const size = options.batchSize ?? 1024;
  const batches = async function* (): AsyncGenerator<RecordBatch> {
    for await (const chunk of batched(rows, size)) yield recordsToBatch(schema, chunk);
  };
  if (format === 'arrows') {
    const writer = await ArrowStreamWriter.open(path, schema);
    try {
      for await (const b of batches()) await writer.write(b);
    } finally {
      await writer.close();
    }
    return writer.rowsWritten;
  }
  if (format === 'arrow') return writeArrowFile(path, schema, batches());
  if (format === 'parquet') {
    const all: RecordBatch[] = [];
    for await (const b of batches()) all.push(b);
    const ipc = RecordBatchStreamWriter.writeAll(all.length > 0 ? all : [recordsToBatch(schema, [])]).toUint8Array(true);
    const bytes = writeParquet(WasmTable.fromIPCStream(ipc));
    await atomicWrite(path, (tmp) => writeFile(tmp, bytes));
    return all.reduce((n, b) => n + b.numRows, 0);
  }
  let count = 0;
  const names = schema.fields.map((f) => f.name);
  await atomicWrite(path, async (tmp) => {
    const lines = async function* (): AsyncGenerator<string> {
      for await (const r of rows) {
        const o: Record<string, unknown> = {};
        for (const n of names) o[n] = (r as Record<string, unknown>)[n] ?? null;
        count++;
        yield `${JSON.stringify(o)}\n`;
      }
    };
    const out = createWriteStream(tmp);
    if (path.toLowerCase().endsWith('.gz')) await pipeline(Readable.from(lines()), createGzip(), out);
    else await pipeline(Readable.from(lines()), out);
  });
  return count;
}
