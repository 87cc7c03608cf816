/**
 * Bounded admission: at most `limit` holders at once, the rest wait in arrival order.
 * With `maxWaiting`, one more waiter than that is refused rather than queued.
 */
export class Semaphore {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    readonly limit: number,
    private readonly maxWaiting = Number.POSITIVE_INFINITY,
    private readonly onFull: (waiting: number) => Error = (n) => new Error(`queue is full (${n} waiting)`),
  ) {
    if (!(limit >= 1)) throw new RangeError(`semaphore limit must be >= 1, got ${limit}`);
  }

  /** Resolves when a slot is free; throws `onFull` when the queue is full. */
  async acquire(): Promise<void> {
    if (this.running < this.limit) {
      this.running++;
      return;
    }
    if (this.waiting.length >= this.maxWaiting) throw this.onFull(this.waiting.length);
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  /** Frees a slot, handing it straight to the next waiter if there is one. */
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running--;
  }
}
