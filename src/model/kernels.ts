/**
 * Faster kernels for the wasm backend, registered over the stock ones.
 *
 * BatchMatMul: the stock wasm kernel reaches XNNPACK only for an untransposed product
 * with batch size 1; every transposed product (all the backward passes) and every
 * batched one (attention) runs a naive loop at ~1–1.6 GFLOP/s. This kernel rewrites
 * each call into that fast case: transposes are materialised first (a fast copy), a
 * shared right-hand side is multiplied once with the batch folded into rows, and a
 * batched product runs one XNNPACK call per batch item on slices copied within the
 * wasm heap. Results equal the stock kernel's (tested against the cpu backend).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

type KernelFunc = (args: { inputs: Record<string, tf.TensorInfo>; backend: unknown; attrs?: Record<string, unknown> }) => tf.TensorInfo;

let installed = false;

/** Replaces the wasm BatchMatMul kernel (idempotent). */
export function installWasmMatMul(): void {
  if (installed) return;
  const original = tf.getKernel('BatchMatMul', 'wasm');
  const transposeKernel = tf.getKernel('Transpose', 'wasm');
  const reshapeKernel = tf.getKernel('Reshape', 'wasm');
  if (!original || !transposeKernel || !reshapeKernel) return;
  installed = true;
  const matmul = original.kernelFunc as unknown as KernelFunc;
  const transpose = transposeKernel.kernelFunc as unknown as KernelFunc;
  const reshape = reshapeKernel.kernelFunc as unknown as KernelFunc;

  const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
    const wasm = backend as BackendWasm;
    const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = (attrs ?? {}) as { transposeA: boolean; transposeB: boolean };
    const temps: tf.TensorInfo[] = [];
    const swapLast = (t: tf.TensorInfo): tf.TensorInfo => {
      const perm = t.shape.map((_, i) => i);
      const n = perm.length;
      [perm[n - 1], perm[n - 2]] = [perm[n - 2] as number, perm[n - 1] as number];
      const out = transpose({ inputs: { x: t }, backend, attrs: { perm } });
      temps.push(out);
      return out;
    };
    const A = transposeA ? swapLast(a) : a; // [..., M, K]
    const B = transposeB ? swapLast(b) : b; // [..., K, N]
    const size = (s: readonly number[]): number => s.reduce((x, y) => x * y, 1);
    const batchA = size(A.shape.slice(0, -2));
    const batchB = size(B.shape.slice(0, -2));
    const [M, K] = A.shape.slice(-2) as [number, number];
    const N = B.shape[B.shape.length - 1] as number;
    const outBatch = tf.broadcast_util.assertAndGetBroadcastShape(A.shape.slice(0, -2), B.shape.slice(0, -2));
    const outShape = [...outBatch, M, N];
    const call = (x: tf.TensorInfo, y: tf.TensorInfo): tf.TensorInfo => matmul({ inputs: { a: x, b: y }, backend, attrs: { transposeA: false, transposeB: false } });
    const view = (t: tf.TensorInfo, shape: number[]): tf.TensorInfo => {
      const out = reshape({ inputs: { x: t }, backend, attrs: { shape } });
      temps.push(out);
      return out;
    };
    let out: tf.TensorInfo;
    try {
      if (batchB === 1) {
        // A shared right-hand side: one product with the batch folded into rows.
        out = call(view(A, [1, batchA * M, K]), view(B, [1, K, N]));
      } else if (batchA === batchB) {
        // Batched (attention): one fast product per batch item.
        out = wasm.makeOutput([batchA, M, N], 'float32');
        for (let i = 0; i < batchA; i++) {
          const ai = wasm.makeOutput([1, M, K], 'float32');
          const bi = wasm.makeOutput([1, K, N], 'float32');
          (wasm.typedArrayFromHeap(ai) as Float32Array).set((wasm.typedArrayFromHeap(A) as Float32Array).subarray(i * M * K, (i + 1) * M * K));
          (wasm.typedArrayFromHeap(bi) as Float32Array).set((wasm.typedArrayFromHeap(B) as Float32Array).subarray(i * K * N, (i + 1) * K * N));
          const oi = call(ai, bi);
          (wasm.typedArrayFromHeap(out) as Float32Array).set(wasm.typedArrayFromHeap(oi) as Float32Array, i * M * N);
          for (const t of [ai, bi, oi]) wasm.disposeData(t.dataId);
        }
      } else {
        // Broadcast batch shapes: the stock kernel, on untransposed inputs.
        out = call(A, B);
      }
    } finally {
      for (const t of temps) wasm.disposeData(t.dataId);
    }
    out.shape = outShape;
    return out;
  };
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({ ...original, kernelFunc: kernelFunc as unknown as tf.KernelFunc });
}
