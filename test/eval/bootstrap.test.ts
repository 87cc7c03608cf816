// Bootstrap intervals on data whose answer is known: the normal approximation for a
// proportion, coverage by simulation, exact pairing, and seeds that widen the interval.
import { describe, expect, it } from 'vitest';
import { bootstrapMean, bootstrapShift, formatInterval, pairedDifference } from '../../src/eval/bootstrap.js';
import { Rng } from '../../src/util/rng.js';

const bernoulli = (rng: Rng, n: number, p: number): number[] => Array.from({ length: n }, () => (rng.float() < p ? 1 : 0));

describe('bootstrapMean', () => {
  it("matches the normal approximation of a proportion's 95% interval", () => {
    const items = Array.from({ length: 400 }, (_, i) => (i < 120 ? 1 : 0)); // p̂ = 0.3 exactly
    const ci = bootstrapMean([items], { resamples: 4000, seed: 1 });
    const half = 1.96 * Math.sqrt((0.3 * 0.7) / 400); // 0.0449
    expect(ci.mean).toBeCloseTo(0.3, 12);
    expect(ci.lo).toBeCloseTo(0.3 - half, 2);
    expect(ci.hi).toBeCloseTo(0.3 + half, 2);
    expect(formatInterval(ci)).toMatch(/^30\.0 \[25\.\d, 34\.\d\]$/);
  });

  it('covers the true mean about 95% of the time (simulation)', () => {
    const rng = new Rng(7);
    let covered = 0;
    const trials = 300;
    for (let t = 0; t < trials; t++) {
      const ci = bootstrapMean([bernoulli(rng, 100, 0.4)], { resamples: 400, seed: t });
      if (ci.lo <= 0.4 && 0.4 <= ci.hi) covered++;
    }
    // Binomial(300, 0.95) lies in [0.91, 0.98] with probability > 0.99.
    expect(covered / trials).toBeGreaterThan(0.9);
    expect(covered / trials).toBeLessThan(0.985);
  });

  it('pairs arms by item: a constant lift over items of any difficulty has a zero-width interval', () => {
    const rng = new Rng(3);
    const base = [Array.from({ length: 200 }, () => rng.float())];
    const lifted = [base[0]!.map((v) => v + 0.02)];
    const paired = bootstrapMean(pairedDifference(lifted, base), { seed: 2 });
    expect(paired.mean).toBeCloseTo(0.02, 12);
    expect(paired.hi - paired.lo).toBeLessThan(1e-9);
    // Unpaired, the same arms overlap widely.
    expect(bootstrapMean(base).hi).toBeGreaterThan(bootstrapMean(lifted).lo);
  });

  it('resamples seeds too: runs that disagree widen the interval, and one seed is the item bootstrap', () => {
    const rng = new Rng(5);
    const items = bernoulli(rng, 300, 0.5);
    const agree = [items, items, items];
    const disagree = [items.map((v) => Math.min(1, v + 0.3)), items, items.map((v) => Math.max(0, v - 0.3))];
    const w = (m: number[][]): number => { const c = bootstrapMean(m, { seed: 1 }); return c.hi - c.lo; };
    expect(w(disagree)).toBeGreaterThan(1.3 * w(agree));
    expect(bootstrapMean([items], { seed: 9 })).toMatchObject({ seeds: 1, items: 300 });
    // The same data and seed give the same interval.
    expect(bootstrapMean(disagree, { seed: 4 })).toEqual(bootstrapMean(disagree, { seed: 4 }));
  });

  it('bootstrapShift: a real rise excludes 0, noise around one level does not', () => {
    const rng = new Rng(11);
    const noisy = (n: number, m: number): number[] => Array.from({ length: n }, () => m + 0.1 * (rng.float() - 0.5));
    const rise = bootstrapShift(noisy(15, 0.3), noisy(15, 0.45));
    expect(rise.mean).toBeCloseTo(0.15, 1);
    expect(rise.lo).toBeGreaterThan(0);
    const flat = bootstrapShift(noisy(15, 0.3), noisy(15, 0.3));
    expect(flat.lo).toBeLessThan(0);
    expect(flat.hi).toBeGreaterThan(0);
    expect(() => bootstrapShift([], [1])).toThrow(/non-empty/);
  });

  it('refuses ragged, empty or non-numeric data, naming where', () => {
    expect(() => bootstrapMean([])).toThrow(/at least one seed and one item/);
    expect(() => bootstrapMean([[1, 0], [1]])).toThrow(/seed 1 has 1 items, seed 0 has 2/);
    expect(() => bootstrapMean([[1, Number.NaN]])).toThrow(/seed 0 item 1 is NaN/);
    expect(() => pairedDifference([[1]], [[1], [0]])).toThrow(/same seeds/);
    expect(() => bootstrapMean([[1]], { level: 1.5 })).toThrow(/level/);
  });
});
