import { describe, expect, it } from 'vitest';
import { meanPassAtK, passAtK } from '../../src/eval/pass-at-k.js';

describe('pass@k', () => {
  it.each([
    [10, 0, 1, 0],
    [10, 10, 1, 1],
    [10, 3, 1, 0.3],
    [4, 1, 2, 0.5], // 1 - C(3,2)/C(4,2) = 1 - 3/6
    [5, 2, 3, 0.9], // 1 - C(3,3)/C(5,3) = 1 - 1/10
    [200, 5, 100, 0.9703083947657],
  ])('n=%i c=%i k=%i', (n, c, k, expected) => expect(passAtK(n, c, k)).toBeCloseTo(expected, 6));

  it('averages over problems and rejects impossible inputs', () => {
    expect(meanPassAtK([{ n: 2, c: 1 }, { n: 2, c: 0 }], 1)).toBe(0.25);
    expect(() => passAtK(3, 1, 5)).toThrow(/pass@5 needs at least 5 samples/);
    expect(() => passAtK(3, 4, 1)).toThrow(/0 ≤ c ≤ n/);
  });
});
