// The wasm BatchMatMul replacement must equal the stock kernels (checked against cpu)
// in every transpose and batch form, and leak nothing.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/model/backend.js';

const cases: [number[], number[], boolean, boolean][] = [
  [[64, 32], [32, 48], false, false],
  [[32, 64], [32, 48], true, false],
  [[64, 32], [48, 32], false, true],
  [[32, 64], [48, 32], true, true],
  [[3, 64, 32], [32, 48], false, false],
  [[3, 32, 64], [48, 32], true, true],
  [[3, 64, 32], [3, 48, 32], false, true],
  [[2, 3, 16, 8], [2, 3, 8, 16], false, false],
  [[2, 3, 8, 16], [2, 3, 8, 16], true, false],
  [[1, 64, 32], [3, 32, 48], false, false],
  [[4, 16, 8], [1, 8, 16], false, false],
  [[5, 1, 7], [5, 7, 1], false, false],
];

describe('wasm BatchMatMul kernel', () => {
  it('equals the cpu backend in every transpose and batch form, and leaks nothing', async () => {
    await selectBackend('cpu');
    const want = cases.map(([sa, sb, ta, tb]) => tf.tidy(() => tf.matMul(tf.randomNormal(sa, 0, 1, 'float32', 1), tf.randomNormal(sb, 0, 1, 'float32', 2), ta, tb).arraySync()));
    await selectBackend('wasm');
    const before = tf.memory().numTensors;
    cases.forEach(([sa, sb, ta, tb], i) => {
      const got = tf.tidy(() => tf.matMul(tf.randomNormal(sa, 0, 1, 'float32', 1), tf.randomNormal(sb, 0, 1, 'float32', 2), ta, tb));
      const err = tf.tidy(() => tf.max(tf.abs(tf.sub(got, tf.tensor(want[i] as number[])))).dataSync()[0] as number);
      expect(err, `${JSON.stringify([sa, sb, ta, tb])}`).toBeLessThan(1e-4);
      got.dispose();
    });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('gives the same gradients as the cpu backend through a transposed product', async () => {
    const f = (x: tf.Tensor, w: tf.Tensor): tf.Scalar => tf.sum(tf.square(tf.matMul(x, w, false, true)));
    const run = async (backend: 'cpu' | 'wasm') => {
      await selectBackend(backend);
      return tf.tidy(() => {
        const x = tf.randomNormal([10, 8], 0, 1, 'float32', 3);
        const w = tf.randomNormal([6, 8], 0, 1, 'float32', 4);
        const q = tf.randomNormal([2, 5, 8], 0, 1, 'float32', 5);
        const k = tf.randomNormal([2, 6, 8], 0, 1, 'float32', 6);
        return [...tf.grads(f)([x, w]), ...tf.grads(f)([q, k])].map((g) => g.arraySync());
      });
    };
    const cpu = await run('cpu');
    const wasm = await run('wasm');
    for (let i = 0; i < 4; i++) {
      const err = tf.tidy(() => tf.max(tf.abs(tf.sub(tf.tensor(cpu[i] as number[]), tf.tensor(wasm[i] as number[])))).dataSync()[0] as number);
      expect(err).toBeLessThan(1e-3);
    }
  });
});
