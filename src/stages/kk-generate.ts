/**
 * The puzzle source of the warmup flow: seeded K&K puzzles as an Observable.
 */
import { Observable } from 'rxjs';
import { generatePuzzles, type GenerateOptions } from '../kk/generator.js';
import type { Puzzle } from '../kk/puzzle.js';

/**
 * Emits the puzzles of `generatePuzzles(options)` in chunks, giving the event loop a
 * turn between chunks so progress output, timers and Ctrl-C stay responsive.
 * Unsubscribing stops generation.
 *
 * @example
 * kkGenerate({ people: [3, 4, 5, 6, 7], count: 4500, seed: 42 }).pipe(…)
 */
export function kkGenerate(options: GenerateOptions, chunk = 256): Observable<Puzzle> {
  return new Observable<Puzzle>((subscriber) => {
    const it = generatePuzzles(options);
    let timer: NodeJS.Immediate | undefined;
    const pump = (): void => {
      try {
        for (let i = 0; i < chunk; i++) {
          if (subscriber.closed) return;
          const r = it.next();
          if (r.done) return subscriber.complete();
          subscriber.next(r.value);
        }
        timer = setImmediate(pump);
      } catch (e) {
        subscriber.error(e);
      }
    };
    pump();
    return () => {
      if (timer) clearImmediate(timer);
      it.return(undefined);
    };
  });
}
