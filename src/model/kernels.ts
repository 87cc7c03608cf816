/**
 * Faster kernels for the wasm backend, registered over the stock ones.
 *
 * BatchMatMul has two implementations, chosen when the backend starts:
 *
 * - `blas`: a system BLAS (see blas.ts) called on the wasm heap, every transpose and
 *   batch form (including broadcast batch shapes) mapped onto `cblas_sgemm` calls
 *   with no copies.
 * - `ort`: ONNX Runtime's CPU kernels (see ort.ts), one call per product for every
 *   transpose, batch and broadcast form, inputs and output as views of the wasm heap.
 * - `xnnpack`: the stock kernel reaches XNNPACK only for an untransposed product with
 *   batch size 1; every transposed product (all the backward passes) and every batched
 *   one (attention) runs a naive loop at ~1–1.6 GFLOP/s. This rewrites each call into
 *   that fast case: transposes are materialised first (a fast copy), a shared
 *   right-hand side is multiplied once with the batch folded into rows, and a batched
 *   product runs one XNNPACK call per batch item on slices copied within the wasm heap.
 *
 * Results equal the stock kernel's (tested against the cpu backend).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { Blas } from './blas.js';
import type { OrtProducts } from './ort.js';

type KernelFunc = (args: { inputs: Record<string, tf.TensorInfo>; backend: unknown; attrs?: Record<string, unknown> }) => tf.TensorInfo;

/** For each flat index of `outBatch`, the flat index into `batch` broadcast to it. */
function broadcastIndex(outBatch: readonly number[], batch: readonly number[]): Int32Array {
  const n = tf.util.sizeFromShape([...outBatch]);
  const map = new Int32Array(n);
  const offset = outBatch.length - batch.length;
  for (let i = 0; i < n; i++) {
    let rest = i;
    let index = 0;
    let stride = 1;
    for (let d = outBatch.length - 1; d >= 0; d--) {
      const dim = outBatch[d] as number;
      const coord = rest % dim;
      rest = Math.floor(rest / dim);
      const own = d - offset >= 0 ? (batch[d - offset] as number) : 1;
      if (own !== 1) index += coord * stride;
      stride *= own;
    }
    map[i] = index;
  }
  return map;
}

/** FLOPs under which one product runs faster on one BLAS thread than on two (measured on 2 cores: 2.6 MFLOP yes, 8.4 no). */
const SMALL_PRODUCT = 4e6;

/**
 * A float32 BatchMatMul's operands, sizes and output (C zero-filled when K is 0); null
 * for other dtypes, which go to the stock kernel.
 */
function prepareMatMul(args: Parameters<KernelFunc>[0]) {
  const wasm = args.backend as BackendWasm;
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  const { transposeA, transposeB } = (args.attrs ?? {}) as { transposeA: boolean; transposeB: boolean };
  const ra = a.shape.length;
  const rb = b.shape.length;
  const M = a.shape[transposeA ? ra - 1 : ra - 2] as number;
  const K = a.shape[transposeA ? ra - 2 : ra - 1] as number;
  const N = b.shape[transposeB ? rb - 2 : rb - 1] as number;
  const batchA = a.shape.slice(0, -2);
  const batchB = b.shape.slice(0, -2);
  const outBatch = tf.broadcast_util.assertAndGetBroadcastShape(batchA, batchB);
  const out = wasm.makeOutput([...outBatch, M, N], 'float32');
  const C = wasm.typedArrayFromHeap(out) as Float32Array;
  if (K === 0) C.fill(0);
  return { wasm, a, b, transposeA, transposeB, M, K, N, batchA, batchB, outBatch, out, C };
}

/** BatchMatMul through `cblas_sgemm`; other dtypes go to `fallback`. */
function blasMatMul(blas: Blas, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const p = prepareMatMul(args);
    if (!p) return fallback(args);
    const { wasm, a, b, transposeA, transposeB, M, K, N, batchA, batchB, outBatch, out, C } = p;
    if (C.length === 0 || K === 0) return out;
    const A = wasm.typedArrayFromHeap(a) as Float32Array;
    const B = wasm.typedArrayFromHeap(b) as Float32Array;
    const lda = transposeA ? M : K;
    const ldb = transposeB ? K : N;
    const n = tf.util.sizeFromShape(outBatch);
    const fold = tf.util.sizeFromShape(batchB) === 1 && !transposeA && tf.util.sizeFromShape(batchA) === n;
    const products = (): void => {
      if (fold) {
        // A shared right-hand side: one product with the batch folded into rows.
        blas.sgemm(false, transposeB, n * M, N, K, A, lda, B, ldb, C, N);
        return;
      }
      const ia = broadcastIndex(outBatch, batchA);
      const ib = broadcastIndex(outBatch, batchB);
      for (let i = 0; i < n; i++) {
        const ai = (ia[i] as number) * M * K;
        const bi = (ib[i] as number) * K * N;
        blas.sgemm(transposeA, transposeB, M, N, K, A.subarray(ai, ai + M * K), lda, B.subarray(bi, bi + K * N), ldb, C.subarray(i * M * N, (i + 1) * M * N), N);
      }
    };
    if (2 * (fold ? n : 1) * M * N * K < SMALL_PRODUCT) blas.singleThreaded(products);
    else products();
    return out;
  };
}

/** BatchMatMul as one ONNX Runtime call on views of the heap; other dtypes go to `fallback`. */
function ortMatMul(ort: OrtProducts, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const p = prepareMatMul(args);
    if (!p) return fallback(args);
    const { wasm, a, b, transposeA, transposeB, M, K, N, outBatch, out, C } = p;
    if (C.length === 0 || K === 0) return out;
    const outShape = [...outBatch, M, N];
    // A threaded backend's heap is shared, which the ORT binding refuses: the backend was
    // started with threads before ORT was chosen (backend.ts starts ORT with one).
    if (C.buffer instanceof SharedArrayBuffer) {
      wasm.disposeData(out.dataId);
      return fallback(args);
    }
    const flops = 2 * C.length * K;
    ort.matmul(transposeA, transposeB, wasm.typedArrayFromHeap(a) as Float32Array, a.shape, wasm.typedArrayFromHeap(b) as Float32Array, b.shape, C, outShape, flops);
    return out;
  };
}

let original: tf.KernelConfig | undefined;

/** Which BatchMatMul the wasm backend runs: the stock kernel, XNNPACK rewrites, a BLAS, or ONNX Runtime. */
export type WasmMatMul = 'stock' | 'xnnpack' | Blas | OrtProducts;

/** Registers the wasm BatchMatMul kernel for `impl` (may be called again to switch). */
export function useWasmMatMul(impl: WasmMatMul): void {
  original ??= tf.getKernel('BatchMatMul', 'wasm');
  if (!original) return;
  const stock = original.kernelFunc as unknown as KernelFunc;
  const kernelFunc = impl === 'stock' ? stock : impl === 'xnnpack' ? xnnpackMatMul(stock) : 'kind' in impl ? ortMatMul(impl, xnnpackMatMul(stock)) : blasMatMul(impl, xnnpackMatMul(stock));
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({ ...original, kernelFunc: kernelFunc as unknown as tf.KernelFunc });
}

/** BatchMatMul rewritten into XNNPACK's fast case (see the module comment). */
function xnnpackMatMul(matmul: KernelFunc): KernelFunc {
  const transposeKernel = tf.getKernel('Transpose', 'wasm');
  const reshapeKernel = tf.getKernel('Reshape', 'wasm');
  if (!transposeKernel || !reshapeKernel) throw new Error('internal: the wasm backend has no Transpose/Reshape kernel');
  const transpose = transposeKernel.kernelFunc as unknown as KernelFunc;
  const reshape = reshapeKernel.kernelFunc as unknown as KernelFunc;

  return ({ inputs, backend, attrs }) => {
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
    const batchA = tf.util.sizeFromShape(A.shape.slice(0, -2));
    const batchB = tf.util.sizeFromShape(B.shape.slice(0, -2));
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
}

/** Registers `make(stock)` as the wasm kernel `name`, in place of the stock one. */
function replaceWasmKernel(name: string, make: (stock: KernelFunc) => KernelFunc): void {
  const stock = tf.getKernel(name, 'wasm');
  if (!stock) return;
  tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({ ...stock, kernelFunc: make(stock.kernelFunc as unknown as KernelFunc) as unknown as tf.KernelFunc });
}

/**
 * Sum over leading axes (bias and norm-weight gradients: [B*T, D] → [D]). The stock
 * wasm kernel transposes the reduced axes innermost first, ~3 ms for [1024, 320]; a
 * column-sum loop takes a tenth of that. Other reductions go to the stock kernel.
 */
export function installWasmSum(): void {
  replaceWasmKernel('Sum', (stockFunc) => (args) => {
    const wasm = args.backend as BackendWasm;
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { axis, keepDims } = (args.attrs ?? {}) as { axis: number | number[]; keepDims: boolean };
    const rank = x.shape.length;
    const axes = [...new Set((Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + rank : a)))].sort((p, q) => p - q);
    const leading = axes.length > 0 && axes.length < rank && axes.every((a, i) => a === i);
    if (x.dtype !== 'float32' || !leading) return stockFunc(args);
    const kept = x.shape.slice(axes.length);
    const cols = tf.util.sizeFromShape(kept);
    const out = wasm.makeOutput(keepDims ? [...axes.map(() => 1), ...kept] : kept, 'float32');
    const xs = wasm.typedArrayFromHeap(x) as Float32Array;
    const acc = new Float64Array(cols);
    for (let base = 0; base < xs.length; base += cols) {
      for (let j = 0; j < cols; j++) acc[j] = (acc[j] as number) + (xs[base + j] as number);
    }
    (wasm.typedArrayFromHeap(out) as Float32Array).set(acc);
    return out;
  });
}

/**
 * Identity without a copy. The engine clones (Identity) every tensor it saves for a
 * gradient; the stock wasm kernel copies the data (~500 copies a training step of the
 * small preset, 27 ms), where the cpu backend shares it. Tensors are immutable, so
 * sharing the buffer with a reference count, as Reshape already does, is safe.
 */
export function installWasmIdentity(): void {
  replaceWasmKernel('Identity', () => ({ inputs, backend }) => {
    const { x } = inputs as { x: tf.TensorInfo };
    (backend as BackendWasm).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  });
}

/**
 * Gather of whole rows (the embedding lookup: x [V, D], int32 indices, axis 0) as row
 * copies within the heap; the stock kernel took 12 ms for 1,024 rows of 320. Indices
 * out of range are an error naming the index, as in the stock kernel. Other gathers go
 * to the stock kernel.
 */
export function installWasmGather(): void {
  replaceWasmKernel('GatherV2', (stockFunc) => (args) => {
    const wasm = args.backend as BackendWasm;
    const { x, indices } = args.inputs as { x: tf.TensorInfo; indices: tf.TensorInfo };
    const { axis, batchDims } = (args.attrs ?? {}) as { axis: number; batchDims: number };
    if (axis !== 0 || (batchDims ?? 0) !== 0 || x.dtype !== 'float32' || indices.dtype !== 'int32') return stockFunc(args);
    const rows = x.shape[0] as number;
    const width = tf.util.sizeFromShape(x.shape.slice(1));
    const out = wasm.makeOutput([...indices.shape, ...x.shape.slice(1)], 'float32');
    const o = wasm.typedArrayFromHeap(out) as Float32Array;
    const xs = wasm.typedArrayFromHeap(x) as Float32Array;
    const ids = wasm.typedArrayFromHeap(indices) as Int32Array;
    for (let i = 0; i < ids.length; i++) {
      const r = ids[i] as number;
      if (r < 0 || r >= rows) {
        wasm.disposeData(out.dataId);
        throw new Error(`GatherV2: the index value ${r} is not in [0, ${rows - 1}]`);
      }
      o.set(xs.subarray(r * width, (r + 1) * width), i * width);
    }
    return out;
  });
}
