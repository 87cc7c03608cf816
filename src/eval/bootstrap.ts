/**
 * Percentile bootstrap intervals for accuracies and paired differences, over items and
 * seeds.
 *
 * The data is a matrix: one row per seed (a whole training run), one column per item
 * of an evaluation set, each cell a value for that item in that run (1/0 correctness,
 * or a difference of two arms on the same item). One bootstrap replicate draws seeds
 * with replacement and, independently, items with replacement, and takes the mean of
 * the drawn cells; the same drawn items are used in every drawn seed, so an item that is
 * hard for every run stays one item, not S independent ones. With one seed this is the
 * ordinary bootstrap over items. A paired comparison of two arms passes the cell-wise
 * difference, so item difficulty cancels.
 *
 * @example
 * bootstrapMean([[1, 0, 1, 1]]);                    // { mean: 0.75, lo, hi } over 4 items
 * bootstrapMean(pairedDifference(warm, base));       // warm − base, paired over seeds and items
 */
import { Rng } from '../util/rng.js';

export interface Interval {
  /** The mean of every cell. */
  readonly mean: number;
  /** The interval's bounds (percentiles of the replicates' means). */
  readonly lo: number;
  readonly hi: number;
  /** Coverage asked for, e.g. 0.95. */
  readonly level: number;
  readonly seeds: number;
  readonly items: number;
}

export interface BootstrapOptions {
  /** Replicates (default 2,000). */
  readonly resamples?: number;
  /** Coverage (default 0.95). */
  readonly level?: number;
  /** Seed of the resampling (default 0): the same data and seed give the same interval. */
  readonly seed?: number;
}

/** The options with their defaults, checked. */
function settings(options: BootstrapOptions): { resamples: number; level: number; rng: Rng } {
  const resamples = options.resamples ?? 2000;
  const level = options.level ?? 0.95;
  if (!(level > 0 && level < 1)) throw new RangeError(`level must be in (0, 1), got ${level}`);
  if (!Number.isInteger(resamples) || resamples < 1) throw new RangeError(`resamples must be a positive integer, got ${resamples}`);
  return { resamples, level, rng: new Rng(options.seed ?? 0) };
}

/** The central `level` interval of the replicates' statistics (sorted in place). */
function percentiles(replicates: Float64Array, level: number): { lo: number; hi: number } {
  replicates.sort();
  const n = replicates.length;
  const at = (q: number): number => replicates[Math.min(n - 1, Math.max(0, Math.floor(q * n)))] as number;
  return { lo: at((1 - level) / 2), hi: at(1 - (1 - level) / 2) };
}

/** The mean of `matrix` (seeds × items) with a percentile bootstrap interval over seeds and items. */
export function bootstrapMean(matrix: readonly (readonly number[])[], options: BootstrapOptions = {}): Interval {
  const { resamples, level, rng } = settings(options);
  const seeds = matrix.length;
  const items = matrix[0]?.length ?? 0;
  if (seeds === 0 || items === 0) throw new RangeError('bootstrapMean needs at least one seed and one item');
  matrix.forEach((row, s) => {
    if (row.length !== items) throw new RangeError(`seed ${s} has ${row.length} items, seed 0 has ${items}: every seed must score the same items`);
    row.forEach((v, i) => {
      if (!Number.isFinite(v)) throw new RangeError(`seed ${s} item ${i} is ${v}, not a number`);
    });
  });
  let total = 0;
  for (const row of matrix) for (const v of row) total += v;
  const mean = total / (seeds * items);
  const means = new Float64Array(resamples);
  const drawnItems = new Int32Array(items);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < items; i++) drawnItems[i] = rng.int(items);
    let sum = 0;
    for (let s = 0; s < seeds; s++) {
      const row = matrix[seeds === 1 ? 0 : rng.int(seeds)] as readonly number[];
      for (let i = 0; i < items; i++) sum += row[drawnItems[i] as number] as number;
    }
    means[r] = sum / (seeds * items);
  }
  return { mean, ...percentiles(means, level), level, seeds, items };
}

/**
 * mean(b) − mean(a) of two independent samples (e.g. a run's per-step pass rates over
 * its first and its last quarter), with a percentile bootstrap interval that resamples
 * each sample on its own.
 */
export function bootstrapShift(a: readonly number[], b: readonly number[], options: BootstrapOptions = {}): Interval {
  if (a.length === 0 || b.length === 0) throw new RangeError('bootstrapShift needs two non-empty samples');
  const { resamples, level, rng } = settings(options);
  const meanOf = (x: readonly number[]): number => x.reduce((s, v) => s + v, 0) / x.length;
  const draw = (x: readonly number[]): number => {
    let sum = 0;
    for (let i = 0; i < x.length; i++) sum += x[rng.int(x.length)] as number;
    return sum / x.length;
  };
  const shifts = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) shifts[r] = draw(b) - draw(a);
  return { mean: meanOf(b) - meanOf(a), ...percentiles(shifts, level), level, seeds: 1, items: a.length + b.length };
}

/** Cell-wise a − b of two seeds × items matrices of the same shape (a paired comparison). */
export function pairedDifference(a: readonly (readonly number[])[], b: readonly (readonly number[])[]): number[][] {
  if (a.length !== b.length) throw new RangeError(`paired arms need the same seeds: ${a.length} against ${b.length}`);
  return a.map((row, s) => {
    const other = b[s] as readonly number[];
    if (row.length !== other.length) throw new RangeError(`paired arms need the same items: seed ${s} has ${row.length} against ${other.length}`);
    return row.map((v, i) => v - (other[i] as number));
  });
}

/** "54.0 [47.1, 60.9]" in percent. */
export function formatInterval(x: Interval, digits = 1): string {
  const p = (v: number): string => (100 * v).toFixed(digits);
  return `${p(x.mean)} [${p(x.lo)}, ${p(x.hi)}]`;
}
