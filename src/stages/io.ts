/**
 * Dataset I/O as RxJS: write an Observable of records to an Arrow stream batch by
 * batch, tap a live flow into a log without changing it, and read any dataset back as
 * an Observable.
 */
import { map, Observable, type OperatorFunction } from 'rxjs';
import type { Schema } from 'apache-arrow';
import { readRowBatches } from '../data/dataset.js';
import { ArrowStreamWriter, type ReadOptions } from '../data/ipc.js';
import { recordsToBatch } from '../data/records.js';

/** Options for `writeArrowStream`. */
export interface ArrowWriteConfig {
  /** Rows per record batch: the most a crash can lose. */
  readonly batchSize?: number;
  /** Flush a partial batch after this long (ms), so slow flows still reach the disk; 0: right after the rows pushed in the same turn (one batch per caller's write). */
  readonly flushMs?: number;
  /** Keep the rows already in the file and append (resume). */
  readonly append?: boolean;
  /** fsync each batch. */
  readonly fsync?: boolean;
  /** Called once the file is open (before any row is written), with what the open found. */
  readonly onOpen?: (opened: OpenedLog) => void;
}

/** What opening a log found: rows already there (append) and a torn tail dropped. */
export interface OpenedLog {
  readonly existingRows: number;
  readonly droppedBytes: number;
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
 * Calls `flush` `ms` after the first request since the last flush; with `ms` 0, right
 * after the current turn (a microtask), so the rows a caller pushes together go out as
 * one batch. A 0 ms timer would wait ~1 ms per batch: that halved `warmup traces`
 * against issue 13's parent (862 → 392 puzzles/s).
 */
function flushLater(ms: number, flush: () => void): { request(): void; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  let queued = false;
  return {
    request: () => {
      if (ms > 0) timer ??= setTimeout(flush, ms);
      else if (!queued) {
        queued = true;
        queueMicrotask(() => {
          queued = false;
          flush();
        });
      }
    },
    cancel: () => {
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}

/**
 * Writes every record to an Arrow IPC stream at `path`, one flushed batch per
 * `batchSize` records (or per `flushMs`), and emits progress after each batch. When the
 * source completes, errors or is unsubscribed, the records still buffered are written
 * and the file is closed with its end-of-stream marker before the completion or error
 * is passed on: nothing the source emitted is dropped.
 *
 * Built with `new Observable` because a flush must finish before an error is
 * forwarded, which the buffering operators do not allow.
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
    new Observable<WriteProgress>((subscriber) => {
      let buffer: R[] = [];
      let batches = 0;
      let failed: unknown = null;
      const opening = ArrowStreamWriter.open(path, schema, {
        ...(config.append !== undefined ? { append: config.append } : {}),
        ...(config.fsync !== undefined ? { fsync: config.fsync } : {}),
      });
      // A file that cannot be opened fails the stream at once, not at the first flush.
      opening.then((w) => config.onOpen?.({ existingRows: w.existingRows, droppedBytes: w.droppedBytes }), (e: unknown) => subscriber.error((failed ??= e)));
      // Writes run one after another on this chain.
      let chain: Promise<ArrowStreamWriter> = opening;
      const progress = (w: ArrowStreamWriter, done: boolean): WriteProgress => ({
        path,
        rows: w.rowsWritten,
        existingRows: w.existingRows,
        batches,
        done,
      });
      const flush = (): void => {
        later.cancel();
        if (buffer.length === 0) return;
        const rows = buffer;
        buffer = [];
        chain = chain.then(async (w) => {
          await w.write(recordsToBatch(schema, rows));
          batches++;
          if (!subscriber.closed) subscriber.next(progress(w, false));
          return w;
        });
        chain.catch((e: unknown) => {
          failed ??= e;
          subscriber.error(e);
        });
      };
      const later = flushLater(flushMs, flush);
      const finish = async (): Promise<ArrowStreamWriter> => {
        flush();
        const w = await chain;
        await w.close();
        return w;
      };
      const sub = source.subscribe({
        next: (r) => {
          buffer.push(r);
          if (buffer.length >= batchSize) flush();
          else later.request();
        },
        error: (e: unknown) => {
          finish().then(
            () => subscriber.error(e),
            () => subscriber.error(e),
          );
        },
        complete: () => {
          finish().then(
            (w) => {
              subscriber.next(progress(w, true));
              subscriber.complete();
            },
            (e: unknown) => subscriber.error(failed ?? e),
          );
        },
      });
      return () => {
        sub.unsubscribe();
        // Unsubscribed early: still write what was received and end the stream.
        if (!subscriber.closed || buffer.length > 0) void finish().catch(() => undefined);
        else void chain.then((w) => w.close()).catch(() => undefined);
      };
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
