import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/model/backend.js';
import { AdamW, DEFAULT_ADAMW } from '../../src/train/optim.js';

const weightsOf = (seed: number): Map<string, tf.Variable> =>
  new Map([['w', tf.tidy(() => tf.variable(tf.randomNormal([6, 5], 0, 1, 'float32', seed)))]]);
const gradOf = (seed: number): Record<string, tf.Tensor> => ({ w: tf.randomNormal([6, 5], 0, 1, 'float32', seed) });
const values = (w: Map<string, tf.Variable>): number[] => Array.from(w.get('w')!.dataSync());

describe('AdamW anchor decay (L2-SP)', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  it('pulls each weight back by lr·x of its distance from where training started', () => {
    const start = weightsOf(1);
    const initial = values(start);
    const plain = weightsOf(1);
    const lr = 1e-2;
    const anchored = new AdamW({ ...DEFAULT_ADAMW, weightDecay: 0, anchorDecay: 40 }, start);
    const free = new AdamW({ ...DEFAULT_ADAMW, weightDecay: 0 }, plain);
    for (let step = 0; step < 5; step++) {
      const g = gradOf(10 + step);
      const before = [values(start), values(plain)];
      anchored.apply(g, lr);
      free.apply(g, lr);
      tf.dispose(Object.values(g));
      // Same AdamW update from the same point, then the pull: p' = p + u − lr·x·(p + u − p0).
      const u = values(plain).map((v, i) => v - before[1]![i]!);
      const expected = before[0]!.map((p, i) => p + u[i]! - lr * 40 * (p + u[i]! - initial[i]!));
      values(start).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
      tf.tidy(() => plain.get('w')!.assign(tf.tensor(values(start), [6, 5]))); // both continue from the anchored point
    }
    anchored.dispose();
    free.dispose();
    [...start.values(), ...plain.values()].forEach((w) => w.dispose());
  });

  it('saves its anchor with the moments, restores it on resume, and refuses a state saved without one', () => {
    const w = weightsOf(2);
    const opt = new AdamW({ ...DEFAULT_ADAMW, anchorDecay: 10 }, w);
    const g = gradOf(3);
    opt.apply(g, 1e-2);
    tf.dispose(Object.values(g));
    const saved = new Map([...opt.state()].map(([k, t]) => [k, { shape: t.shape, data: t.dataSync() as Float32Array }]));
    expect([...saved.keys()].sort()).toEqual(['anchor/w', 'm/w', 'v/w']);
    expect(Array.from(saved.get('anchor/w')!.data)).toEqual(Array.from(weightsOf(2).get('w')!.dataSync()));
    // A resumed optimizer is built from the trained weights; the saved anchor replaces them.
    const resumed = new AdamW({ ...DEFAULT_ADAMW, anchorDecay: 10 }, w);
    resumed.load(saved, 1);
    expect(Array.from(resumed.state().get('anchor/w')!.dataSync())).toEqual(Array.from(saved.get('anchor/w')!.data));
    expect(() => new AdamW({ ...DEFAULT_ADAMW }, w).load(saved, 1)).toThrow(/decayed toward its starting weights.*same --anchor-decay/);
    saved.delete('anchor/w');
    expect(() => new AdamW({ ...DEFAULT_ADAMW, anchorDecay: 10 }, w).load(saved, 1)).toThrow(/no anchor: it was saved by a run without anchor decay/);
    expect(() => new AdamW({ ...DEFAULT_ADAMW, lr: 1e-2, anchorDecay: 200 }, w)).toThrow(/anchor decay 200 at learning rate 0.01.*\[0, 100\]/);
    [opt, resumed].forEach((o) => o.dispose());
    w.get('w')!.dispose();
  });
});
