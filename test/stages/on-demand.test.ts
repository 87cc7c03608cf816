import { lastValueFrom, mergeMap, tap, timer, toArray, map, concatMap } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { onDemand } from '../../src/stages/on-demand.js';

describe('onDemand', () => {
  it('emits `ahead` items, then one per pull, in order, and reads its source no further than asked', () => {
    let read = 0;
    function* source(): Generator<number> {
      for (let i = 0; i < 10; i++) {
        read++;
        yield i;
      }
    }
    const { items$, pull } = onDemand(source(), 3);
    const seen: number[] = [];
    let completed = false;
    const sub = items$.subscribe({ next: (x) => seen.push(x), complete: () => (completed = true) });
    expect(seen).toEqual([0, 1, 2]);
    expect(read).toBe(3);
    pull();
    pull();
    expect(seen).toEqual([0, 1, 2, 3, 4]);
    expect(read).toBe(5);
    for (let i = 0; i < 5; i++) pull();
    expect(seen).toEqual([...Array(10).keys()]);
    expect(completed).toBe(false);
    pull(); // past the end
    expect(completed).toBe(true);
    expect(sub.closed).toBe(true);
  });

  it('completes at once on no items, and when `ahead` exceeds them', async () => {
    expect(await lastValueFrom(onDemand([], 4).items$.pipe(toArray()))).toEqual([]);
    expect(await lastValueFrom(onDemand([1, 2], 8).items$.pipe(toArray()))).toEqual([1, 2]);
  });

  it('loses no pull made while an item is being handled (a synchronous consumer)', async () => {
    const { items$, pull } = onDemand([...Array(50).keys()], 1);
    expect(await lastValueFrom(items$.pipe(tap(() => pull()), toArray()))).toEqual([...Array(50).keys()]);
  });

  it('keeps at most `ahead` items in a pipeline that pulls once per finished item', async () => {
    const { items$, pull } = onDemand([...Array(40).keys()], 6);
    let inFlight = 0;
    let most = 0;
    const out = await lastValueFrom(
      items$.pipe(
        tap(() => (most = Math.max(most, ++inFlight))),
        mergeMap((x) => timer(x % 3).pipe(map(() => x)), 2),
        concatMap(async (x) => {
          await new Promise((r) => setImmediate(r));
          inFlight--;
          pull();
          return x;
        }),
        toArray(),
      ),
    );
    expect([...out].sort((a, b) => a - b)).toEqual([...Array(40).keys()]);
    expect(most).toBe(6);
  });

  it('refuses a bad window', () => {
    expect(() => onDemand([1], 0)).toThrow(/ahead must be a positive integer, got 0/);
  });
});
