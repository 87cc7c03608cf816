// The worker-side deadline: its timer thread writes the interrupt on time while the
// thread that armed it is busy (as a worker is, inside Pyodide), and not after disarm.
import { describe, expect, it } from 'vitest';
import { DeadlineTimer } from '../../src/sandbox/deadline.js';

/** Spins this thread (no event loop turn) until `done()` or `ms` have passed. */
function spinUntil(done: () => boolean, ms: number): number {
  const t0 = performance.now();
  while (!done() && performance.now() - t0 < ms) {
    // spin
  }
  return performance.now() - t0;
}

describe('DeadlineTimer', () => {
  const timer = new DeadlineTimer();
  const interrupted = (): boolean => Atomics.load(timer.interrupt, 0) === 2;

  it('interrupts while the arming thread never yields', () => {
    timer.arm(50);
    const waited = spinUntil(interrupted, 10_000);
    expect(interrupted()).toBe(true);
    expect(waited).toBeGreaterThanOrEqual(45);
    timer.disarm();
  });

  it('does not interrupt after disarm, and arm clears a stale interrupt', () => {
    timer.arm(100);
    expect(interrupted()).toBe(false);
    timer.disarm();
    spinUntil(() => false, 400);
    expect(interrupted()).toBe(false);
  });

  it('keeps the latest deadline when re-armed', () => {
    timer.arm(50);
    timer.arm(60_000);
    spinUntil(() => false, 400);
    expect(interrupted()).toBe(false);
    timer.disarm();
  });
});
