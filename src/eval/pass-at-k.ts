/**
 * The unbiased pass@k estimator (Chen et al. 2021): with n samples of which c pass,
 * pass@k = 1 − C(n−c, k) / C(n, k), computed as a product to stay finite.
 */
export function passAtK(n: number, c: number, k: number): number {
  if (!(Number.isInteger(n) && Number.isInteger(c) && Number.isInteger(k)) || n < 1 || c < 0 || c > n || k < 1) {
    throw new RangeError(`pass@k needs integers n ≥ 1, 0 ≤ c ≤ n, k ≥ 1; got n=${n}, c=${c}, k=${k}`);
  }
  if (k > n) throw new RangeError(`pass@${k} needs at least ${k} samples per problem, got ${n}`);
  if (n - c < k) return 1;
  let fail = 1;
  for (let i = n - c + 1; i <= n; i++) fail *= 1 - k / i;
  return 1 - fail;
}

/** Mean pass@k over problems, from per-problem (n, c) counts. */
export function meanPassAtK(counts: readonly { n: number; c: number }[], k: number): number {
  if (counts.length === 0) throw new RangeError('pass@k of no problems');
  return counts.reduce((s, { n, c }) => s + passAtK(n, c, k), 0) / counts.length;
}
