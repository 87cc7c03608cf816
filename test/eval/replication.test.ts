// The claims' statistics and verdicts on data whose answer is known.
import { describe, expect, it } from 'vitest';
import { replicationClaims, verdictOf, type Cells } from '../../src/eval/replication.js';
import { Rng } from '../../src/util/rng.js';

const DOMAINS = ['math', 'code', 'mc'];
const ITEMS = 120;
const SEEDS = 3;

/** Correctness with probability p per item, seeds × items. */
function arm(rng: Rng, p: number, seeds = SEEDS): number[][] {
  return Array.from({ length: seeds }, () => Array.from({ length: ITEMS }, () => (rng.float() < p ? 1 : 0)));
}

/** A full input: per-domain accuracies of each model; checkpoints interpolate linearly. */
function world(acc: (model: string, set: string) => number, seed = 1): Cells {
  const rng = new Rng(seed);
  const cells: Record<string, Record<string, number[][]>> = {};
  const models = ['base', 'warm', ...DOMAINS.flatMap((d) => [`base-rl-${d}`, `warm-rl-${d}`, ...[0.5].flatMap((f) => [`base-rl-${d}@${f}`, `warm-rl-${d}@${f}`])])];
  for (const model of models) for (const set of DOMAINS) (cells[model] ??= {})[set] = arm(rng, acc(model, set), model === 'base' ? 1 : SEEDS);
  return cells;
}

describe('replication claims', () => {
  it('the verdict rule: above 0 reproduced, below +2 points not reproduced, else inconclusive', () => {
    expect(verdictOf({ lo: 0.01, hi: 0.2 })).toBe('reproduced');
    expect(verdictOf({ lo: -0.05, hi: 0.015 })).toBe('not reproduced');
    expect(verdictOf({ lo: -0.3, hi: -0.1 })).toBe('not reproduced');
    expect(verdictOf({ lo: -0.01, hi: 0.05 })).toBe('inconclusive');
  });

  it('reproduces all four claims when the warm arm is clearly better everywhere', () => {
    const acc = (model: string): number => {
      if (model === 'base') return 0.3;
      if (model === 'warm') return 0.5;
      if (model.startsWith('warm-rl')) return model.includes('@') ? 0.6 : 0.7; // learns fast, keeps skills
      return model.includes('@') ? 0.3 : 0.4; // base+RL
    };
    const claims = replicationClaims({ domains: DOMAINS, cells: world(acc), fractions: [0, 0.5, 1], resamples: 2000 });
    expect(claims.map((c) => [c.claim, c.pooled.verdict])).toEqual([['i', 'reproduced'], ['ii', 'reproduced'], ['iii', 'reproduced'], ['iv', 'reproduced']]);
    expect(claims[0]?.pooled.mean).toBeCloseTo(0.2, 1);
    expect(Object.keys(claims[2]?.parts ?? {})).toHaveLength(6);
    expect(claims[2]?.parts['math→code']).toBeDefined();
  });

  it('does not reproduce a claim whose arms are equal, and says inconclusive when the data is too thin', () => {
    // Independent draws at the same accuracy: never reproduced, and the interval holds 0.
    const same = replicationClaims({ domains: DOMAINS, cells: world(() => 0.4), resamples: 2000 });
    for (const c of same) {
      expect(c.pooled.verdict).not.toBe('reproduced');
      expect(c.pooled.lo).toBeLessThan(0);
      expect(c.pooled.hi).toBeGreaterThan(0);
    }
    // A warm model that answers exactly as the base: (i) is 0 with a zero-width interval.
    const cells = world(() => 0.4);
    const copy = replicationClaims({ domains: DOMAINS, cells: { ...cells, warm: cells.base! }, resamples: 2000 });
    expect(copy[0]?.pooled).toMatchObject({ mean: 0, lo: 0, hi: 0, verdict: 'not reproduced' });
    // Warm hurts: (i) is not reproduced, with a negative mean.
    const hurts = replicationClaims({ domains: DOMAINS, cells: world((m) => (m.startsWith('warm') ? 0.2 : 0.5)), resamples: 2000 });
    expect(hurts[0]).toMatchObject({ pooled: { verdict: 'not reproduced' } });
    expect(hurts[0]?.pooled.hi).toBeLessThan(0);
    // One domain, a 4-point lift on 120 items: the interval holds 0 and reaches past +2.
    const rng = new Rng(3);
    const base = arm(rng, 0.5, 1);
    const warm = [base[0]!.map((v, i) => (i < 5 && v === 0 ? 1 : v)), base[0]!.map((v, i) => (i < 5 && v === 0 ? 1 : v)), base[0]!.map((v) => v)];
    const thin = replicationClaims({ domains: ['math'], cells: { base: { math: base }, warm: { math: warm }, 'base-rl-math': { math: arm(rng, 0.5) }, 'warm-rl-math': { math: arm(rng, 0.5) } }, resamples: 2000 });
    expect(thin[0]?.pooled.verdict).toBe('inconclusive');
  });

  it('retention (iii) measures change, so a warm model that starts higher does not pass on level alone', () => {
    // Warm is 20 points higher before and after RL everywhere: level difference > 0, retention difference 0.
    const acc = (model: string): number => (model.startsWith('warm') ? 0.6 : 0.4);
    const claims = replicationClaims({ domains: DOMAINS, cells: world(acc), resamples: 2000 });
    expect(claims[2]?.pooled.verdict).not.toBe('reproduced');
    expect(claims[2]?.secondary?.pooled.verdict).toBe('reproduced');
  });

  it('claim (i) against a control arm: what the warmup adds beyond its own SFT, with the difference from the base beside it', () => {
    // The SFT alone costs 20 points (control 0.2 against base 0.4); the traces add 10 back (warm 0.3).
    const acc = (model: string): number => (model === 'control' ? 0.2 : model === 'warm' ? 0.3 : 0.4);
    const cells = world(acc);
    const rng = new Rng(9);
    const withControl = { ...cells, control: Object.fromEntries(DOMAINS.map((d) => [d, arm(rng, 0.2)])) };
    const [i] = replicationClaims({ domains: DOMAINS, cells: withControl, resamples: 2000, control: 'control' });
    expect(i?.statistic).toMatch(/accuracy\(warm\) − accuracy\(control\)/);
    expect(i?.pooled.mean).toBeCloseTo(0.1, 1);
    expect(i?.pooled.verdict).toBe('reproduced');
    expect(i?.secondary).toMatchObject({ label: 'against the base', pooled: { verdict: 'not reproduced' } });
    expect(i?.secondary?.pooled.mean).toBeCloseTo(-0.1, 1);
    // Without a control, the base is the comparison and nothing is reported beside it.
    const [plain] = replicationClaims({ domains: DOMAINS, cells: withControl, resamples: 2000 });
    expect(plain?.pooled.mean).toBeCloseTo(-0.1, 1);
    expect(plain?.secondary).toBeUndefined();
    expect(() => replicationClaims({ domains: DOMAINS, cells, resamples: 100, control: 'control' })).toThrow(/no results for model 'control' on set 'math'/);
  });

  it('names a missing model or a set with the wrong number of seeds', () => {
    const cells = world(() => 0.4);
    const { warm: _, ...noWarm } = cells;
    expect(() => replicationClaims({ domains: DOMAINS, cells: noWarm })).toThrow(/no results for model 'warm' on set 'math'/);
    expect(() => replicationClaims({ domains: DOMAINS, cells: { ...cells, warm: { ...cells.warm, math: arm(new Rng(1), 0.4, 2) } } })).toThrow(/'warm' on 'math' has 2 seeds, expected 3/);
    expect(() => replicationClaims({ domains: DOMAINS, cells, fractions: [0.5, 1] })).toThrow(/from 0 to 1/);
  });
});
