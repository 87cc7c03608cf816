/**
 * The reward verification stage: scores an Observable of samples with bounded
 * concurrency, in input order when asked, and cancels in-flight scoring when
 * unsubscribed.
 */
import { map, mergeMap, Observable, scan, concatMap, from, type OperatorFunction } from 'rxjs';
import type { RewardResult, RewardSample } from '../reward/types.js';

/** What `verify` needs: a scorer (normally `RewardPool.score` with fixed rewards). */
export interface VerifyDeps {
  readonly score: (sample: RewardSample, signal: AbortSignal) => Promise<RewardResult>;
  /** Samples scored at once; default 8 (a 2-worker pool stays busy with a few queued). */
  readonly concurrency?: number;
  /** Emit in input order (default true); false emits as results arrive. */
  readonly ordered?: boolean;
}

/** A sample with its verdict. */
export type Verified<T extends RewardSample> = T & { readonly reward: RewardResult };

function scoreOne<T extends RewardSample>(deps: VerifyDeps, sample: T): Observable<Verified<T>> {
  return new Observable<Verified<T>>((subscriber) => {
    const abort = new AbortController();
    let settled = false;
    deps.score(sample, abort.signal).then(
      (reward) => {
        settled = true;
        subscriber.next({ ...sample, reward });
        subscriber.complete();
      },
      (e: unknown) => {
        settled = true;
        subscriber.error(e);
      },
    );
    return () => {
      if (!settled) abort.abort();
    };
  });
}

/**
 * @example
 * samples$.pipe(verify({ score: (s, signal) => pool.score(s, [{ ref: 'kk' }], { signal }) }))
 */
export function verify<T extends RewardSample>(deps: VerifyDeps): OperatorFunction<T, Verified<T>> {
  const concurrency = deps.concurrency ?? 8;
  if (!(concurrency >= 1)) throw new RangeError(`verify: concurrency must be >= 1, got ${concurrency}`);
  if (deps.ordered === false) return mergeMap((s: T) => scoreOne(deps, s), concurrency);
  return (source) =>
    source.pipe(
      map((sample, index) => ({ sample, index })),
      mergeMap(({ sample, index }) => scoreOne(deps, sample).pipe(map((v) => ({ v, index }))), concurrency),
      // Hold results that finish early until every earlier one has been emitted.
      scan(
        (state, { v, index }) => {
          state.pending.set(index, v);
          const ready: Verified<T>[] = [];
          while (state.pending.has(state.next)) {
            ready.push(state.pending.get(state.next) as Verified<T>);
            state.pending.delete(state.next);
            state.next++;
          }
          return { ...state, ready };
        },
        { next: 0, pending: new Map<number, Verified<T>>(), ready: [] as Verified<T>[] },
      ),
      concatMap((state) => from(state.ready)),
    );
}
