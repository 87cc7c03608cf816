/**
 * Seeded randomness. Every random choice in warmup draws from an `Rng` made from an
 * explicit seed, so the same seed always yields the same data. The generator is
 * xoroshiro128+ from `pure-rand`; `deriveSeed` mixes a parent seed with integer keys
 * (SplitMix32 finaliser) so that independent streams get unrelated seeds.
 */
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';

/** A mutable seeded random source. */
export class Rng {
  private readonly gen: RandomGenerator;

  constructor(seed: number) {
    this.gen = xoroshiro128plus(seed | 0);
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    if (!(n >= 1)) throw new RangeError(`Rng.int needs n >= 1, got ${n}`);
    return uniformInt(this.gen, 0, n - 1);
  }

  /** A uniform float in [0, 1). */
  float(): number {
    return (this.gen.next() >>> 0) / 4294967296;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('Rng.pick needs a non-empty array');
    return items[this.int(items.length)] as T;
  }

  /** `k` distinct elements, in random order (partial Fisher-Yates). */
  sample<T>(items: readonly T[], k: number): T[] {
    if (k > items.length) throw new RangeError(`cannot draw ${k} distinct items from ${items.length}`);
    if (4 * k <= items.length) {
      // Few from many: rejection on indices avoids copying the pool.
      const picked: number[] = [];
      while (picked.length < k) {
        const i = this.int(items.length);
        if (!picked.includes(i)) picked.push(i);
      }
      return picked.map((i) => items[i] as T);
    }
    const pool = items.slice();
    for (let i = 0; i < k; i++) {
      const j = i + this.int(pool.length - i);
      [pool[i], pool[j]] = [pool[j] as T, pool[i] as T];
    }
    return pool.slice(0, k);
  }

  /** Shuffles in place (Fisher-Yates). */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j] as T, items[i] as T];
    }
    return items;
  }
}

function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/** A uint32 seed for the stream named by `keys` under `seed`. */
export function deriveSeed(seed: number, ...keys: number[]): number {
  let h = mix32((seed >>> 0) ^ 0x9e3779b9);
  for (const k of keys) h = mix32((h + Math.imul(k >>> 0, 0x9e3779b1) + 0x6d2b79f5) >>> 0);
  return h;
}

/** Checks a user-supplied seed: an integer in [0, 2^32). */
export function checkSeed(seed: number, what = 'seed'): number {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new RangeError(`${what} must be an integer in [0, 4294967295], got ${seed}`);
  }
  return seed;
}
