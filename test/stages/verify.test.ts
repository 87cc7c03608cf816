import { lastValueFrom, Observable, take, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { RewardResult, RewardSample } from '../../src/reward/types.js';
import { verify } from '../../src/stages/verify.js';

const samples = (n: number): RewardSample[] => Array.from({ length: n }, (_, i) => ({ id: `s${i}`, prompt: '', completion: String(i), row: {} }));
const result = (score: number): RewardResult => ({ score, status: 'ok', parts: {}, reason: null });

/** A fake scorer: resolves after a delay that makes later samples finish first. */
function fakeScorer(log: { active: number; maxActive: number; aborted: number }) {
  return (s: RewardSample, signal: AbortSignal) =>
    new Promise<RewardResult>((resolve) => {
      log.active++;
      log.maxActive = Math.max(log.maxActive, log.active);
      const t = setTimeout(() => {
        log.active--;
        resolve(result(Number(s.completion)));
      }, 30 - (Number(s.completion) % 5) * 5);
      signal.addEventListener('abort', () => {
        clearTimeout(t);
        log.active--;
        log.aborted++;
      });
    });
}

const from$ = (xs: RewardSample[]) =>
  new Observable<RewardSample>((s) => {
    xs.forEach((x) => s.next(x));
    s.complete();
  });

describe('verify', () => {
  it('keeps input order with bounded concurrency', async () => {
    const log = { active: 0, maxActive: 0, aborted: 0 };
    const out = await lastValueFrom(from$(samples(20)).pipe(verify({ score: fakeScorer(log), concurrency: 4 }), toArray()));
    expect(out.map((o) => o.id)).toEqual(samples(20).map((s) => s.id));
    expect(out.map((o) => o.reward.score)).toEqual([...Array(20).keys()]);
    expect(log.maxActive).toBe(4);
  });

  it('emits as results arrive when unordered', async () => {
    const log = { active: 0, maxActive: 0, aborted: 0 };
    const out = await lastValueFrom(from$(samples(10)).pipe(verify({ score: fakeScorer(log), concurrency: 10, ordered: false }), toArray()));
    expect(out.map((o) => o.id)).not.toEqual(samples(10).map((s) => s.id));
    expect(new Set(out.map((o) => o.id)).size).toBe(10);
  });

  it('aborts scoring in flight when unsubscribed', async () => {
    const log = { active: 0, maxActive: 0, aborted: 0 };
    const out = await lastValueFrom(from$(samples(20)).pipe(verify({ score: fakeScorer(log), concurrency: 4 }), take(2), toArray()));
    expect(out).toHaveLength(2);
    expect(log.aborted).toBeGreaterThan(0);
    expect(log.active).toBe(0);
  });

  it('passes scorer errors on', async () => {
    const boom = () => Promise.reject(new Error('pool closed'));
    await expect(lastValueFrom(from$(samples(3)).pipe(verify({ score: boom })))).rejects.toThrow('pool closed');
  });
});
