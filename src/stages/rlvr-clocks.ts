/**
 * The RL stage's two small clocks: credits that bound how far generation runs ahead of
 * training, and busy clocks that measure how long the model and the reward pool work.
 */
import { Observable } from 'rxjs';
import type { ChunkRequest } from './rollout.js';

/**
 * Counting permits: how many groups generation may have ahead of training
 * (`available`), and how many more the run can still use (`remaining`), so the last
 * steps do not sample groups nobody will train on.
 */
export class Credits {
  private waiter: (() => void) | null = null;
  constructor(
    private available: number,
    private remaining: number,
  ) {}
  /** Waits for at least one credit, then takes up to `max`; null once cancelled. */
  async take(max: number, signal: AbortSignal): Promise<number | null> {
    while (this.available === 0 || this.remaining === 0) {
      if (signal.aborted) return null;
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
    if (signal.aborted) return null;
    const n = Math.min(max, this.available, this.remaining);
    this.available -= n;
    this.remaining -= n;
    return n;
  }
  /** Groups trained or dropped: generation may run that much further ahead. */
  release(n: number): void {
    this.available += n;
    this.wake();
  }
  /** Groups dropped: the run needs that many more. */
  grant(n: number): void {
    this.remaining += n;
    this.wake();
  }
  wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }
}

/** Busy time of a resource: the union of intervals with at least one user. */
export class BusyClock {
  private users = 0;
  private since = 0;
  busyMs = 0;
  workMs = 0;
  enter(): number {
    const now = performance.now();
    if (this.users++ === 0) this.since = now;
    return now;
  }
  leave(started: number): void {
    const now = performance.now();
    this.workMs += now - started;
    if (--this.users === 0) this.busyMs += now - this.since;
  }
  /** Busy time including an interval still open. */
  busyNow(): number {
    return this.busyMs + (this.users > 0 ? performance.now() - this.since : 0);
  }
  /** Runs `f` as one busy interval. */
  async time<T>(f: () => Promise<T>): Promise<T> {
    const started = this.enter();
    try {
      return await f();
    } finally {
      this.leave(started);
    }
  }
}

/** A prompt cursor from `from` on that emits chunks of up to `chunkPrompts` groups while it holds credits. */
export function chunkRequests(credits: Credits, from: number, chunkPrompts: number, signal: AbortSignal): Observable<ChunkRequest> {
  return new Observable<ChunkRequest>((sub) => {
    let next = from;
    void (async () => {
      for (;;) {
        const n = await credits.take(chunkPrompts, signal);
        if (n === null) return;
        sub.next({ cursor: next, n });
        next += n;
      }
    })();
    return () => credits.wake();
  });
}
