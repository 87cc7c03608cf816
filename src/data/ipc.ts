/**
 * Arrow IPC files (`.arrow`) and streams (`.arrows`) on disk.
 *
 * Streams are the logs of a running pipeline: `ArrowStreamWriter` appends one record
 * batch per write and hands it to the OS before resolving, so a crash loses at most the
 * batch in flight; reopening with `append` drops a torn tail and carries on.
 * `readArrowBatches` reads complete batches as they land, can follow a file that is
 * still being written, and on a truncated file yields every complete batch before a
 * `ArrowTruncatedError` that says where the damage is.
 *
 * Framing is read directly (continuation marker, metadata length, flatbuffer header
 * with the body length) so that a reader always knows whether a message is whole
 * before asking Arrow to decode it.
 */
import { mkdir, open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Message, MessageHeader, RecordBatchFileWriter, RecordBatchReader, RecordBatchStreamWriter, type RecordBatch, type Schema } from 'apache-arrow';
import { checkSchema } from './records.js';

/** Thrown when bytes are not Arrow IPC. */
export class ArrowFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArrowFormatError';
  }
}

/** Thrown after the last complete batch of a file that ends inside a message. */
export class ArrowTruncatedError extends Error {
  constructor(
    readonly path: string,
    readonly batchesRead: number,
    readonly rowsRead: number,
    readonly offset: number,
    readonly size: number,
  ) {
    super(
      `${path} is truncated: it ends inside the message at byte ${offset} (file size ${size}). ` +
        `The ${batchesRead} complete batches before it (${rowsRead} rows) were read; the rest is lost. ` +
        'If a writer was killed, re-run with resume to continue from the last complete batch.',
    );
    this.name = 'ArrowTruncatedError';
  }
}

/** One encapsulated IPC message inside a byte buffer. */
export interface MessageSpan {
  readonly kind: 'schema' | 'batch' | 'dictionary' | 'other';
  readonly start: number;
  readonly end: number;
  /** Rows in a record batch; 0 otherwise. */
  readonly rows: number;
}

/** The result of scanning a buffer for whole messages. */
export interface ScanResult {
  readonly spans: MessageSpan[];
  /** Offset just past the last whole message (or past the end-of-stream marker). */
  readonly end: number;
  /** 'eos': an end-of-stream marker was read; 'clean': the bytes end between messages; 'partial': they end inside one. */
  readonly state: 'eos' | 'clean' | 'partial';
}

const ARROW_MAGIC = 'ARROW1';
const EOS = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);

/** Scans `bytes` from `offset` for whole IPC messages. Throws `ArrowFormatError` on bytes that are not Arrow. */
export function scanMessages(bytes: Uint8Array, offset = 0, where = 'input'): ScanResult {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const spans: MessageSpan[] = [];
  let o = offset;
  for (;;) {
    const left = bytes.length - o;
    if (left === 0) return { spans, end: o, state: 'clean' };
    if (left < 4) return { spans, end: o, state: 'partial' };
    let header = 4;
    let metaLength = view.getInt32(o, true);
    if (metaLength === -1) {
      if (left < 8) return { spans, end: o, state: 'partial' };
      header = 8;
      metaLength = view.getInt32(o + 4, true);
    }
    if (metaLength === 0) return { spans, end: o + header, state: 'eos' };
    if (metaLength < 0 || metaLength > 1 << 30) {
      throw new ArrowFormatError(`${where}: not an Arrow IPC stream (bad message length ${metaLength} at byte ${o})`);
    }
    if (left < header + metaLength) return { spans, end: o, state: 'partial' };
    let message: Message;
    try {
      message = Message.decode(bytes.subarray(o + header, o + header + metaLength));
    } catch (e) {
      throw new ArrowFormatError(`${where}: not an Arrow IPC stream (undecodable message at byte ${o}: ${String(e)})`);
    }
    const end = o + header + metaLength + message.bodyLength;
    if (end > bytes.length) return { spans, end: o, state: 'partial' };
    const kind =
      message.headerType === MessageHeader.Schema
        ? 'schema'
        : message.headerType === MessageHeader.RecordBatch
          ? 'batch'
          : message.headerType === MessageHeader.DictionaryBatch
            ? 'dictionary'
            : 'other';
    const rows = kind === 'batch' ? Number((message.header() as { length: number | bigint }).length) : 0;
    spans.push({ kind, start: o, end, rows });
    o = end;
  }
}

/** The schema message and one record batch message of `batch`, encoded separately. */
function encodeBatch(batch: RecordBatch): { schema: Uint8Array; batch: Uint8Array } {
  const bytes = RecordBatchStreamWriter.writeAll([batch]).toUint8Array(true);
  const { spans } = scanMessages(bytes);
  const [schemaSpan, batchSpan] = spans;
  if (schemaSpan?.kind !== 'schema' || batchSpan?.kind !== 'batch' || spans.length !== 2) {
    throw new Error('internal: unexpected IPC layout from RecordBatchStreamWriter (dictionary-encoded columns are not supported)');
  }
  return {
    schema: bytes.slice(schemaSpan.start, schemaSpan.end),
    batch: bytes.subarray(batchSpan.start, batchSpan.end),
  };
}

function decodeSchema(schemaBytes: Uint8Array): Schema {
  const reader = RecordBatchReader.from(schemaBytes);
  reader.open();
  return reader.schema;
}

function decodeBatches(schemaBytes: Uint8Array, body: Uint8Array): RecordBatch[] {
  const joined = new Uint8Array(schemaBytes.length + body.length);
  joined.set(schemaBytes, 0);
  joined.set(body, schemaBytes.length);
  return [...RecordBatchReader.from(joined)];
}

/** Options for opening a stream writer. */
export interface StreamWriterOptions {
  /** Keep existing complete batches and append after them (resume). Default: overwrite. */
  readonly append?: boolean;
  /** fsync after every batch, for power-loss durability (slower). Default false: a process crash still loses nothing written. */
  readonly fsync?: boolean;
}

/**
 * Appends record batches to an Arrow IPC stream file, one flushed write per batch.
 * Readers see every batch once `write` resolves, even while the file stays open.
 *
 * @example
 * const w = await ArrowStreamWriter.open('traces.arrows', schema, { append: true });
 * await w.write(recordsToBatch(schema, rows));
 * await w.close();
 */
export class ArrowStreamWriter {
  private schemaBytes: Uint8Array | null;
  private closed = false;

  private constructor(
    readonly path: string,
    readonly schema: Schema,
    private readonly fh: FileHandle,
    private offset: number,
    /** Rows already in the file when it was opened for append. */
    readonly existingRows: number,
    /** Bytes of a torn tail dropped when opening for append. */
    readonly droppedBytes: number,
    private readonly fsync: boolean,
  ) {
    this.schemaBytes = offset > 0 ? new Uint8Array(0) : null;
  }

  /** Rows written through this writer, not counting `existingRows`. */
  rowsWritten = 0;

  /** Opens `path` for writing `schema`, or for appending to it with `append`. */
  static async open(path: string, schema: Schema, options: StreamWriterOptions = {}): Promise<ArrowStreamWriter> {
    let offset = 0;
    let rows = 0;
    let dropped = 0;
    await mkdir(dirname(path), { recursive: true });
    const exists = await stat(path).then((s) => s.size > 0, () => false);
    if (options.append && exists) {
      const scan = await scanFile(path);
      checkSchema(scan.schema, schema, path);
      offset = scan.end;
      rows = scan.rows;
      dropped = scan.size - scan.end;
    }
    const fh = await open(path, options.append && exists ? 'r+' : 'w');
    if (offset > 0) await fh.truncate(offset);
    return new ArrowStreamWriter(path, schema, fh, offset, rows, dropped, options.fsync ?? false);
  }

  /** Appends one batch (which must have this writer's schema) and flushes it to the OS. */
  async write(batch: RecordBatch): Promise<void> {
    if (this.closed) throw new Error(`${this.path}: write after close`);
    if (batch.numRows === 0) return;
    const enc = encodeBatch(batch);
    if (this.schemaBytes === null) {
      this.schemaBytes = enc.schema;
      await this.writeBytes(enc.schema);
    }
    await this.writeBytes(enc.batch);
    if (this.fsync) await this.fh.datasync();
    this.rowsWritten += batch.numRows;
  }

  private async writeBytes(bytes: Uint8Array): Promise<void> {
    let done = 0;
    while (done < bytes.length) {
      const { bytesWritten } = await this.fh.write(bytes, done, bytes.length - done, this.offset + done);
      done += bytesWritten;
    }
    this.offset += bytes.length;
  }

  /** Writes the end-of-stream marker and closes the file. A stream with no batches still gets its schema. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      if (this.schemaBytes === null) {
        await this.writeBytes(emptyStream(this.schema).subarray(0, -EOS.length));
      }
      await this.writeBytes(EOS);
      if (this.fsync) await this.fh.datasync();
    } finally {
      await this.fh.close();
    }
  }

  /** Closes the file without the end-of-stream marker, as a crash would leave it. */
  async abandon(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.fh.close();
  }
}

/** A stream holding `schema` and no batches. */
function emptyStream(schema: Schema): Uint8Array {
  const writer = new RecordBatchStreamWriter();
  writer.reset(undefined, schema);
  writer.close();
  return writer.toUint8Array(true);
}

/** What a scan of a whole file finds. */
interface FileScan {
  readonly schema: Schema;
  readonly end: number;
  readonly size: number;
  readonly rows: number;
}

async function scanFile(path: string): Promise<FileScan> {
  let schema: Schema | null = null;
  let end = 0;
  let size = 0;
  let rows = 0;
  try {
    for await (const step of readSteps(path, {})) {
      schema = step.schema;
      end = step.end;
      size = step.size;
      rows += step.batches.reduce((n, b) => n + b.numRows, 0);
    }
  } catch (e) {
    if (!(e instanceof ArrowTruncatedError) || schema === null) throw e;
  }
  if (schema === null) throw new ArrowFormatError(`${path}: no schema found`);
  return { schema, end, size, rows };
}

/** Options for reading. */
export interface ReadOptions {
  /** Keep reading as the file grows, until its end-of-stream marker or `signal` aborts. */
  readonly follow?: boolean;
  /** How often to look for new bytes when following (ms). */
  readonly pollMs?: number;
  /** When following, give up after this long without new bytes (ms); default: wait for ever. */
  readonly idleTimeoutMs?: number;
  readonly signal?: AbortSignal;
  /** Bytes per read. */
  readonly chunkBytes?: number;
}

interface ReadStep {
  readonly schema: Schema;
  readonly batches: RecordBatch[];
  /** File offset just past the last whole message (before any end-of-stream marker): where an appender continues. */
  readonly end: number;
  readonly size: number;
}

/** What a reader has seen so far: the schema, and how many batches and rows. */
interface Seen {
  schemaBytes: Uint8Array | null;
  schema: Schema | null;
  batches: number;
  rows: number;
}

/** The record batches among the whole messages of `buf` (the schema is kept the first time); `start` is just past the last message. */
function takeMessages(buf: Uint8Array, spans: ReturnType<typeof scanMessages>['spans'], path: string, seen: Seen): { out: RecordBatch[]; start: number } {
  let start = 0;
  let bodyStart = -1;
  for (const span of spans) {
    if (span.kind === 'schema') {
      if (seen.schemaBytes === null) {
        seen.schemaBytes = buf.slice(span.start, span.end);
        seen.schema = decodeSchema(seen.schemaBytes);
      }
      start = span.end;
      continue;
    }
    if (seen.schemaBytes === null) throw new ArrowFormatError(`${path}: a record batch comes before the schema`);
    if (bodyStart < 0) bodyStart = span.start;
    if (span.kind === 'batch') {
      seen.batches++;
      seen.rows += span.rows;
    }
    start = span.end;
  }
  const out = bodyStart >= 0 && seen.schemaBytes ? decodeBatches(seen.schemaBytes, buf.subarray(bodyStart, start)) : [];
  return { out, start };
}

async function* readSteps(path: string, options: ReadOptions): AsyncGenerator<ReadStep> {
  const fh = await open(path, 'r');
  try {
    const chunk = options.chunkBytes ?? 1 << 22;
    let buf = new Uint8Array(0);
    let base = 0; // file offset of buf[0]
    let size = 0;
    const seen: Seen = { schemaBytes: null, schema: null, batches: 0, rows: 0 };
    let lastGrowth = Date.now();
    let first = true;
    for (;;) {
      options.signal?.throwIfAborted();
      const read = new Uint8Array(chunk);
      const { bytesRead } = await fh.read(read, 0, chunk, base + buf.length);
      if (bytesRead > 0) {
        const joined = new Uint8Array(buf.length + bytesRead);
        joined.set(buf, 0);
        joined.set(read.subarray(0, bytesRead), buf.length);
        buf = joined;
        size = base + buf.length;
        lastGrowth = Date.now();
      }
      if (first) {
        if (buf.length < 8 && bytesRead > 0) continue;
        if (buf.length === 0 && !options.follow) throw new ArrowFormatError(`${path} is empty: not an Arrow file`);
        if (buf.length >= 6 && new TextDecoder().decode(buf.subarray(0, 6)) === ARROW_MAGIC) {
          buf = buf.subarray(8);
          base = 8;
        }
        if (buf.length > 0 || !options.follow) first = false;
      }
      const scan = scanMessages(buf, 0, path);
      const { out, start } = takeMessages(buf, scan.spans, path, seen);
      const consumed = scan.state === 'eos' ? scan.end : start;
      if (seen.schema && (out.length > 0 || scan.state === 'eos' || consumed > 0)) {
        yield { schema: seen.schema, batches: out, end: base + start, size };
      }
      buf = buf.subarray(consumed);
      base += consumed;
      if (scan.state === 'eos') return;
      if (bytesRead > 0) continue;
      // At the current end of the file.
      if (options.follow) {
        if (options.idleTimeoutMs !== undefined && Date.now() - lastGrowth > options.idleTimeoutMs) {
          if (buf.length > 0) throw new ArrowTruncatedError(path, seen.batches, seen.rows, base, size);
          return;
        }
        await sleep(options.pollMs ?? 100, undefined, options.signal ? { signal: options.signal } : undefined);
        continue;
      }
      if (buf.length > 0) {
        // An IPC file's footer follows its last message; anything else is a torn message.
        if (isFileFooter(buf)) return;
        throw new ArrowTruncatedError(path, seen.batches, seen.rows, base, size);
      }
      if (seen.schema === null) throw new ArrowFormatError(`${path}: no Arrow schema found`);
      return;
    }
  } finally {
    await fh.close();
  }
}

/** True when `tail` is an IPC file footer: flatbuffer, int32 length, "ARROW1". */
function isFileFooter(tail: Uint8Array): boolean {
  if (tail.length < 10) return false;
  const magic = new TextDecoder().decode(tail.subarray(tail.length - 6));
  const len = new DataView(tail.buffer, tail.byteOffset + tail.length - 10, 4).getInt32(0, true);
  return magic === ARROW_MAGIC && len === tail.length - 10;
}

/**
 * Reads the record batches of an IPC stream or file as they are complete. With
 * `follow`, waits for more until the writer closes the stream. Throws
 * `ArrowTruncatedError` after the last complete batch of a torn file.
 */
export async function* readArrowBatches(path: string, options: ReadOptions = {}): AsyncGenerator<RecordBatch> {
  for await (const step of readSteps(path, options)) yield* step.batches;
}

/** The schema of an IPC stream or file (reads only as far as the schema message). */
export async function readArrowSchema(path: string): Promise<Schema> {
  for await (const step of readSteps(path, { chunkBytes: 1 << 16 })) return step.schema;
  throw new ArrowFormatError(`${path}: no Arrow schema found`);
}

/**
 * An IPC file writer that also writes the schema message after the magic bytes. The
 * Arrow spec lays a file out as magic + a stream (schema first) + footer, and pyarrow
 * writes it so; arrow-js leaves the schema to the footer alone. With it, a file whose
 * footer was lost still yields its complete batches.
 */
class SelfDescribingFileWriter extends RecordBatchFileWriter {
  protected override _writeSchema(schema: Schema): this {
    super._writeSchema(schema);
    return this._writeMessage(Message.from(schema));
  }
}

/**
 * Writes batches to an IPC file atomically: into a temporary file beside `path`,
 * renamed over it only when complete, so a crash never leaves a half-written file.
 */
export async function writeArrowFile(path: string, schema: Schema, batches: AsyncIterable<RecordBatch> | Iterable<RecordBatch>): Promise<number> {
  const tmp = `${path}.tmp-${process.pid}`;
  const fh = await open(tmp, 'w');
  let rows = 0;
  const writer = new SelfDescribingFileWriter();
  writer.reset(undefined, schema);
  const sink = (async () => {
    for await (const bytes of writer) await fh.write(bytes);
  })();
  try {
    for await (const b of batches) {
      writer.write(b);
      rows += b.numRows;
    }
    writer.close();
    await sink;
    await fh.close();
    await rename(tmp, path);
    return rows;
  } catch (e) {
    writer.abort();
    await sink.catch(() => undefined);
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw e;
  }
}
