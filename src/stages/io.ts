/**
 * Dataset I/O as RxJS: write an Observable of records to an Arrow stream batch by
 * batch, tap a live flow into a log without changing it, and read any dataset back as
 * an Observable.
 */
import { concat, defer, filter, bufferTime, concatMap, finalize, map, Observable, type OperatorFunction } from 'rxjs';
import type { Schema } from 'apache-arrow';
import { readRowBatches } from '../data/dataset.js';
import { ArrowStreamWriter, type ReadOptions } from '../data/ipc.js';
import { recordsToBatch } from '../data/records.js';

/** Options for `writeArrowStream`. */
export interface ArrowWriteConfig {
  /** Rows per record batch: the most a crash can lose. */
  readonly batchSize?: number;
  /** Flush a partial batch after this long (ms), so slow flows still reach the disk. */
  readonly flushMs?: number;
  /** Keep the rows already in the file and append (resume). */
  readonly append?: boolean;
  /** fsync each batch. */
  readonly fsync?: boolean;
}

/** Progress of a write: emitted after each flushed batch, and once more, `done`, after close. */
export interface WriteProgress {
  readonly path: string;
  /** Rows written by this run. */
  readonly rows: number;
  /** Rows already in the file when it was opened for append. */
  readonly existingRows: number;
  readonly batches: number;
  readonly done: boolean;
}

/**
 * Writes every record to an Arrow IPC stream at `path`, one flushed batch per
 * `batchSize` records (or per `flushMs`), and emits progress. The file is closed with
 * its end-of-stream marker when the source completes, errors, or is unsubscribed.
 *
 * @example
 * puzzles$.pipe(map(puzzleToRecord), writeArrowStream('puzzles.arrows', schema)).subscribe(p => …)
 */
export function writeArrowStream<R extends object>(
  path: string,
  schema: Schema,
  config: ArrowWriteConfig = {},
): OperatorFunction<R, WriteProgress> {
  const batchSize = config.batchSize ?? 256;
  const flushMs = config.flushMs ?? 1000;
  return (source) =>
    defer(() => {
      let opening: Promise<ArrowStreamWriter> | null = null;
      let batches = 0;
      const writer = (): Promise<ArrowStreamWriter> =>
        (opening ??= ArrowStreamWriter.open(path, schema, {
          ...(config.append !== undefined ? { append: config.append } : {}),
          ...(config.fsync !== undefined ? { fsync: config.fsync } : {}),
        }));
      const progress = (w: ArrowStreamWriter, done: boolean): WriteProgress => ({
        path,
        rows: w.rowsWritten,
        existingRows: w.existingRows,
        batches,
        done,
      });
      const writes = source.pipe(
        bufferTime(flushMs, null, batchSize),
        filter((rows) => rows.length > 0),
        concatMap(async (rows) => {
          const w = await writer();
          await w.write(recordsToBatch(schema, rows));
          batches++;
          return progress(w, false);
        }),
      );
      const close = defer(async () => {
        const w = await writer();
        await w.close();
        return progress(w, true);
      });
      return concat(writes, close).pipe(
        finalize(() => {
          // On error or unsubscribe, still end the stream properly; close is idempotent.
          void opening?.then((w) => w.close()).catch(() => undefined);
        }),
      );
    });
}

/**
 * Passes records through unchanged while logging them to an Arrow stream; completes
 * only after the log is closed, so downstream completion means the log is on disk.
 */
export function tapArrowStream<R extends object>(
  path: string,
  schema: Schema,
  config: ArrowWriteConfig = {},
): OperatorFunction<R, R> {
  return (source) =>
    new Observable<R>((subscriber) => {
      const sub = source
        .pipe(
          map((r) => {
            subscriber.next(r);
            return r;
          }),
          writeArrowStream<R>(path, schema, config),
        )
        .subscribe({ error: (e: unknown) => subscriber.error(e), complete: () => subscriber.complete() });
      return () => sub.unsubscribe();
    });
}

/**
 * Reads any dataset (.arrow, .arrows, .jsonl, .parquet) as an Observable of plain
 * records, pulling one batch at a time. With `follow`, keeps emitting rows of a stream
 * that is still being written until its writer closes it. Unsubscribing stops the read
 * and closes the file.
 */
export function readDataset<R = Record<string, unknown>>(path: string, options: Omit<ReadOptions, 'signal'> = {}): Observable<R> {
  return new Observable<R>((subscriber) => {
    const abort = new AbortController();
    const batches = readRowBatches(path, { ...options, signal: abort.signal });
    void (async () => {
      try {
        for await (const rows of batches) {
          for (const r of rows) {
            if (subscriber.closed) return;
            subscriber.next(r as R);
          }
        }
        subscriber.complete();
      } catch (e) {
        if (!abort.signal.aborted) subscriber.error(e);
      }
    })();
    return () => {
      abort.abort();
      void batches.return(undefined);
    };
  });
}
