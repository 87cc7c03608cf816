/**
 * The paper's four claims as statistics with intervals and verdicts (results/PLAN.md).
 *
 * Input: per-item correctness of every model on every held-out set, as seeds × items
 * matrices. Models are named `base`, `warm`, `base-rl-D`, `warm-rl-D` (RL on target
 * domain D), and `ARM-rl-D@F` for an RL checkpoint at fraction F of the run (claim iv;
 * F = 0 is the arm's starting model, F = 1 its final one). The base is pretrained once,
 * so its matrix may have one row, used for every seed.
 *
 * Every statistic is a mean over cells of a seeds × items matrix (a paired difference
 * per item), with the bootstrap over seeds and items of `bootstrap.ts`; pooled
 * statistics concatenate domains along the item axis.
 */
import { bootstrapMean, type Interval } from './bootstrap.js';

export type Verdict = 'reproduced' | 'not reproduced' | 'inconclusive';

/** Correctness (0/1) of `model` on `set`: seeds × items. */
export type Cells = Readonly<Record<string, Readonly<Record<string, readonly (readonly number[])[]>>>>;

export interface ReplicationInput {
  /** Target domains, each an RL domain and a held-out set of the same name. */
  readonly domains: readonly string[];
  readonly cells: Cells;
  /** RL checkpoint fractions evaluated for claim (iv), ascending, from 0 to 1. */
  readonly fractions?: readonly number[];
  readonly resamples?: number;
  /** Smallest effect that counts (default 0.02: two percentage points). */
  readonly margin?: number;
  /**
   * The model claim (i) compares the warm model with (default `base`). A control arm
   * (e.g. `control`: the warmup's SFT on its rehearsal rows alone) separates what the
   * traces do from what the SFT itself does; the difference from the base is then
   * reported beside it.
   */
  readonly control?: string;
}

export interface Statistic extends Interval {
  readonly verdict: Verdict;
}

export interface ClaimResult {
  readonly claim: 'i' | 'ii' | 'iii' | 'iv';
  readonly title: string;
  /** What is measured, in words. */
  readonly statistic: string;
  readonly pooled: Statistic;
  /** By domain (claims i, ii, iv) or by "D→E" pair (claim iii). */
  readonly parts: Readonly<Record<string, Statistic>>;
  /** Reported beside the claim's statistic: claim iii's level difference; claim i's difference from the base when it is measured against a control. */
  readonly secondary?: { readonly label: string; readonly statistic: string; readonly pooled: Statistic };
}

/** The plan's rule: above 0 → reproduced; below +margin → not reproduced; else inconclusive. */
export function verdictOf(x: Pick<Interval, 'lo' | 'hi'>, margin = 0.02): Verdict {
  if (x.lo > 0) return 'reproduced';
  if (x.hi < margin) return 'not reproduced';
  return 'inconclusive';
}

/** A model's matrix on a set, with `seeds` rows (a one-row matrix is repeated). */
function matrix(cells: Cells, model: string, set: string, seeds: number): number[][] {
  const m = cells[model]?.[set];
  if (!m || m.length === 0) throw new Error(`replication: no results for model '${model}' on set '${set}'`);
  if (m.length !== seeds && m.length !== 1) throw new Error(`replication: '${model}' on '${set}' has ${m.length} seeds, expected ${seeds} (or 1 for a fixed model)`);
  return Array.from({ length: seeds }, (_, s) => [...(m[m.length === 1 ? 0 : s] as readonly number[])]);
}

/** Cell-wise combination of same-shaped matrices. */
function combine(ms: readonly number[][][], f: (...v: number[]) => number): number[][] {
  const [first] = ms;
  if (!first) throw new Error('replication: nothing to combine');
  return first.map((row, s) =>
    row.map((_, i) => {
      const vals = ms.map((m) => {
        const v = m[s]?.[i];
        if (v === undefined) throw new Error(`replication: matrices differ in shape (seed ${s}, item ${i})`);
        return v;
      });
      return f(...vals);
    }),
  );
}

/** Concatenates matrices along the item axis (pooling domains). */
const concat = (ms: readonly number[][][]): number[][] => (ms[0] ?? []).map((_, s) => ms.flatMap((m) => m[s] as number[]));

/** Trapezoid weights of `fractions` on [0, 1] (they sum to 1). */
function trapezoid(fractions: readonly number[]): number[] {
  if (fractions.length < 2 || fractions[0] !== 0 || fractions[fractions.length - 1] !== 1) throw new Error(`claim iv needs checkpoint fractions from 0 to 1, got ${fractions.join(', ')}`);
  return fractions.map((f, k) => ((fractions[k + 1] ?? f) - (fractions[k - 1] ?? f)) / 2);
}

/** The number of seeds: the largest row count of any model. */
function seedCount(cells: Cells): number {
  return Math.max(...Object.values(cells).flatMap((sets) => Object.values(sets).map((m) => m.length)));
}

/** Claims (i)–(iv) with pooled and per-part statistics and verdicts. */
export function replicationClaims(input: ReplicationInput): ClaimResult[] {
  const { domains, cells } = input;
  const seeds = seedCount(cells);
  const margin = input.margin ?? 0.02;
  let boot = 0;
  const stat = (m: number[][]): Statistic => {
    const x = bootstrapMean(m, { resamples: input.resamples ?? 10_000, seed: boot++ });
    return { ...x, verdict: verdictOf(x, margin) };
  };
  const m = (model: string, set: string): number[][] => matrix(cells, model, set, seeds);
  const diff = (a: number[][], b: number[][]): number[][] => combine([a, b], (x, y) => x - y);
  const summarise = (parts: Record<string, number[][]>): { pooled: Statistic; parts: Record<string, Statistic> } => ({
    pooled: stat(concat(Object.values(parts))),
    parts: Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, stat(v)])),
  });

  const control = input.control ?? 'base';
  const i = summarise(Object.fromEntries(domains.map((d) => [d, diff(m('warm', d), m(control, d))])));
  const ii = summarise(Object.fromEntries(domains.map((d) => [d, diff(m(`warm-rl-${d}`, d), m(`base-rl-${d}`, d))])));
  const pairs = domains.flatMap((d) => domains.filter((e) => e !== d).map((e) => [d, e] as const));
  const retention = Object.fromEntries(
    pairs.map(([d, e]) => [`${d}→${e}`, combine([m(`warm-rl-${d}`, e), m('warm', e), m(`base-rl-${d}`, e), m('base', e)], (wr, w, br, b) => wr - w - (br - b))]),
  );
  const results: ClaimResult[] = [
    {
      claim: 'i',
      title: 'Warmup alone lifts the target domains',
      statistic: `accuracy(warm) − accuracy(${control}), held-out set of each target domain`,
      ...i,
      ...(control === 'base'
        ? {}
        : { secondary: { label: 'against the base', statistic: 'accuracy(warm) − accuracy(base)', pooled: stat(concat(domains.map((d) => diff(m('warm', d), m('base', d))))) } }),
    },
    { claim: 'ii', title: 'Warm+RL beats base+RL on the same ≤100 examples', statistic: "accuracy(warm+RL(D)) − accuracy(base+RL(D)) on D's held-out set", ...ii },
  ];
  // (iii) needs a domain besides the RL one.
  if (pairs.length > 0) {
    const level = stat(concat(pairs.map(([d, e]) => diff(m(`warm-rl-${d}`, e), m(`base-rl-${d}`, e)))));
    results.push({
      claim: 'iii',
      title: 'After RL on one domain, warm+RL keeps its other skills better',
      statistic: '[acc(warm+RL(D), E) − acc(warm, E)] − [acc(base+RL(D), E) − acc(base, E)] over domains E ≠ D (retention difference)',
      ...summarise(retention),
      secondary: { label: 'level difference', statistic: 'acc(warm+RL(D), E) − acc(base+RL(D), E) over E ≠ D (level difference)', pooled: level },
    });
  }
  if (input.fractions) {
    const w = trapezoid(input.fractions);
    const auc = (arm: 'base' | 'warm', d: string): number[][] => {
      const at = input.fractions!.map((f) => (f === 0 ? m(arm, d) : f === 1 ? m(`${arm}-rl-${d}`, d) : m(`${arm}-rl-${d}@${f}`, d)));
      return combine(at, (...v) => v.reduce((s, x, k) => s + x * (w[k] as number), 0));
    };
    const iv = summarise(Object.fromEntries(domains.map((d) => [d, diff(auc('warm', d), auc('base', d))])));
    results.push({ claim: 'iv', title: 'Warm+RL reaches a given accuracy with fewer samples', statistic: "area under held-out accuracy on D against rollouts sampled (normalised), warm+RL(D) − base+RL(D)", ...iv });
  }
  return results;
}
