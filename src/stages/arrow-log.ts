/**
 * An Arrow stream log that a command feeds by hand (its rollouts, metrics or traces),
 * written through `writeArrowStream`, the operator the stages use: one writer path for
 * every log.
 */
import { lastValueFrom, Subject, tap } from 'rxjs';
import type { Schema } from 'apache-arrow';
import { writeArrowStream, type ArrowWriteConfig, type OpenedLog } from './io.js';

/** A log that a command pushes rows to as they come, written by `writeArrowStream`. */
export interface ArrowLog<R> extends OpenedLog {
  /** Queues rows; they reach the file within `flushMs`, or at `close`. */
  push(rows: readonly R[]): void;
  /** Queues rows and resolves once they, and all queued before them, are written (within `flushMs`); rejects with a write error. */
  write(rows: readonly R[]): Promise<void>;
  /** Rows this log has written so far (not counting `existingRows`). */
  readonly rowsWritten: number;
  /** Flushes what is queued, ends the stream and closes the file; rejects with any write error. */
  close(): Promise<void>;
}

/**
 * Opens an Arrow stream log fed by hand (a command's rollouts, metrics or traces),
 * through the same operator the stages use. The file is opened at once, so a bad path
 * fails here.
 */
export async function openArrowLog<R extends object>(path: string, schema: Schema, config: ArrowWriteConfig = {}): Promise<ArrowLog<R>> {
  const rows = new Subject<R>();
  let opened: (o: OpenedLog) => void = () => undefined;
  const ready = new Promise<OpenedLog>((resolve) => (opened = resolve));
  let queued = 0;
  let written = 0;
  let failure: { error: unknown } | null = null;
  const waiters: { target: number; resolve: () => void; reject: (e: unknown) => void }[] = [];
  const settle = (): void => {
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i] as (typeof waiters)[number];
      if (failure) w.reject(failure.error);
      else if (written >= w.target) w.resolve();
      else continue;
      waiters.splice(i, 1);
    }
  };
  const done = lastValueFrom(
    rows.pipe(
      writeArrowStream<R>(path, schema, { ...config, onOpen: (o) => opened(o) }),
      tap((p) => {
        written = p.rows;
        settle();
      }),
    ),
    { defaultValue: null },
  );
  done.catch((error: unknown) => {
    failure = { error };
    settle();
  }); // a write error is also thrown by close()
  // Resolves once the file is open; a file that cannot be opened rejects here.
  const info = await Promise.race([ready, done.then(() => ({ existingRows: 0, droppedBytes: 0 }))]);
  const push = (batch: readonly R[]): void => {
    queued += batch.length;
    batch.forEach((r) => rows.next(r));
  };
  return {
    ...info,
    get rowsWritten() {
      return written;
    },
    push,
    write: (batch) => {
      push(batch);
      const target = queued;
      return new Promise<void>((resolve, reject) => {
        waiters.push({ target, resolve, reject });
        settle();
      });
    },
    close: async () => {
      rows.complete();
      await done;
    },
  };
}
