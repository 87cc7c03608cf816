/**
 * A source that emits only as fast as its consumer asks, so a fast producer cannot
 * queue a whole run in front of a slow stage.
 *
 * RxJS pushes: `from(items)` hands every item to the next operator at once, and
 * `mergeMap(fn, k)` queues what it cannot start in an array it drains with `shift()`,
 * which costs O(queue length) once the queue outgrows V8's small arrays. A stage fed
 * 60,000 puzzles that way did O(run) work per puzzle, and its first output waited for
 * the whole input to be read. Here the consumer calls `pull()` once per item it has
 * finished, and at most `ahead` items are ever between the source and that point.
 */
import { defer, EMPTY, map, merge, Subject, takeWhile, type Observable } from 'rxjs';

/** An on-demand source and the function that asks it for one more item. */
export interface OnDemand<T> {
  /** Emits `ahead` items on subscription, then one per `pull()`; completes at the end of the items. */
  readonly items$: Observable<T>;
  /** Asks for one more item; call it once per item the pipeline has finished with (from anywhere, even synchronously inside the pipeline). */
  readonly pull: () => void;
}

/**
 * @example
 * const { items$, pull } = onDemand(puzzles, 8);
 * items$.pipe(traces(deps), concatMap(async (g) => { await write(g); pull(); }))
 */
export function onDemand<T>(items: Iterable<T>, ahead: number): OnDemand<T> {
  if (!(Number.isInteger(ahead) && ahead >= 1)) throw new RangeError(`onDemand: ahead must be a positive integer, got ${ahead}`);
  const demand = new Subject<void>();
  let owed = 0;
  let emitting = false;
  // A trampoline: a pull made while an item is on its way down the pipeline (a
  // synchronous consumer) is counted and served once that item has gone through, so
  // items keep their order and the stack stays flat.
  const request = (n: number): void => {
    owed += n;
    if (emitting) return;
    emitting = true;
    try {
      while (owed > 0) {
        owed--;
        demand.next();
      }
    } finally {
      emitting = false;
    }
  };
  const items$ = defer(() => {
    const it = items[Symbol.iterator]();
    // The first `ahead` requests go out once `demand` is subscribed.
    const start = defer(() => {
      request(ahead);
      return EMPTY;
    });
    return merge(demand, start).pipe(
      map(() => it.next()),
      takeWhile((r): r is IteratorYieldResult<T> => r.done !== true),
      map((r) => r.value),
    );
  });
  return { items$, pull: () => request(1) };
}
