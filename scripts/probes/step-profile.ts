/**
 * LAB session 13: where one training step of the shipped world base goes, per TF.js
 * kernel and per product shape (the profile that found the mask and loss fallbacks).
 *
 *   WARMUP_BLAS=off npx tsx scripts/probes/step-profile.ts [T=640] [B=8] [BLOCK]
 *
 * Random token rows of length T, batch B, completion loss on every token, one packed
 * segment per row; prints the backend line, ms per step (mean of 3 after a warm-up),
 * the 25 costliest kernels of one profiled step and the 14 costliest product shapes.
 * BLOCK sets the causal attention block (rows; Infinity for one block).
 */
import * as tf from '@tensorflow/tfjs';
import { describeBackend, selectBackend } from '../../src/model/backend.js';
import { loadCheckpoint } from '../../src/model/checkpoint.js';

const T = Number(process.argv[2] ?? 640);
const B = Number(process.argv[3] ?? 8);
const block = process.argv[4] === undefined ? undefined : Number(process.argv[4]);
console.log(describeBackend(await selectBackend('auto')));
const { model } = await loadCheckpoint('data/models/world-base');
const V = model.config.vocabSize;
const ids = tf.tensor2d(Array.from({ length: B * T }, (_, i) => (i * 7919) % (V - 10)), [B, T], 'int32');
const batch = {
  ids,
  targets: ids,
  lossMask: tf.onesLike<tf.Tensor2D>(ids),
  positions: tf.tensor2d(Array.from({ length: B * T }, (_, i) => i % T), [B, T], 'int32'),
  segmentIds: tf.zerosLike<tf.Tensor2D>(ids),
  ...(block !== undefined ? { attentionBlock: block } : {}),
};
const vars = model.variables();
const step = (): void => {
  const { value, grads } = tf.variableGrads(() => model.loss(batch), vars);
  value.dataSync();
  tf.dispose([value, ...Object.values(grads)]);
};
step();
const t0 = performance.now();
for (let i = 0; i < 3; i++) step();
const ms = (performance.now() - t0) / 3;
console.log(`T=${T} B=${B}: ${ms.toFixed(0)} ms/step, ${((B * T) / ms * 1000).toFixed(0)} tokens/s`);
const profile = await tf.profile(() => step());
const byKernel = new Map<string, { ms: number; n: number }>();
const byShape = new Map<string, number>();
for (const k of profile.kernels) {
  const a = byKernel.get(k.name) ?? { ms: 0, n: 0 };
  a.ms += Number(k.kernelTimeMs);
  a.n++;
  byKernel.set(k.name, a);
  if (k.name === 'BatchMatMul') {
    const key = k.inputShapes.map((s) => JSON.stringify(s)).join(' x ');
    byShape.set(key, (byShape.get(key) ?? 0) + Number(k.kernelTimeMs));
  }
}
console.log('kernel                            ms  calls');
for (const [name, a] of [...byKernel].sort((x, y) => y[1].ms - x[1].ms).slice(0, 25)) console.log(`${name.padEnd(30)} ${a.ms.toFixed(1).padStart(8)} ${String(a.n).padStart(5)}`);
console.log('products (ms, input shapes)');
for (const [key, t] of [...byShape].sort((x, y) => y[1] - x[1]).slice(0, 14)) console.log(`${t.toFixed(1).padStart(8)}  ${key}`);
