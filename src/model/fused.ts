/**
 * Transformer ops with fused wasm kernels: RMSNorm, rotary embedding, SwiGLU and the
 * log-probability of target tokens.
 *
 * Composed from stock TF.js ops, the backward pass of each is 5–15 kernels, each a pass
 * over memory plus dispatch, with the tape keeping copies of their intermediates. On
 * the wasm backend the backward pass is instead one kernel written as a loop over the
 * wasm heap (the rotary embedding's forward too). The other forward passes stay stock:
 * XNNPACK's SIMD elementwise kernels beat a scalar JS loop there (measured: RMSNorm
 * forward 0.45 ms stock against 1.35 ms as one JS loop for [1024, 320]), while
 * in the backward pass one loop beats a chain of kernels (RMSNorm 6.5 → ~3 ms, SwiGLU
 * [1024, 960] 11 → ~4 ms). Other backends (node, node-gpu, cpu) run the stock-op
 * composition with autodiff, which is also the reference the kernels are tested against.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

type Inputs = Record<string, tf.TensorInfo>;
type Attrs = Record<string, unknown>;

const RMS_NORM_GRAD = 'WarmupRmsNormGrad';
const ROTARY = 'WarmupRotary';
const KERNELS = [RMS_NORM_GRAD, ROTARY] as const;

const run = (name: string, inputs: Record<string, tf.Tensor>, attrs: Attrs = {}): tf.Tensor | tf.Tensor[] =>
  tf.engine().runKernel(name, inputs as unknown as tf.NamedTensorMap, attrs as tf.NamedAttrMap) as tf.Tensor | tf.Tensor[];
const hasKernel = (name: string): boolean => tf.getKernel(name, tf.getBackend()) !== undefined;

// ---------------------------------------------------------------------------------------
// The ops.

const rmsNormStock = <T extends tf.Tensor>(x: T, weight: tf.Tensor1D, eps: number): T =>
  tf.tidy(() => {
    const variance = tf.mean(tf.square(x), -1, true); // [..., 1]
    return tf.mul(tf.mul(x, tf.rsqrt(tf.add(variance, eps))), weight) as T; // [..., D]
  });

/** x · rsqrt(mean(x², -1) + eps) · weight, over the last axis. x [..., D], weight [D]. */
export function rmsNorm<T extends tf.Tensor>(x: T, weight: tf.Tensor1D, eps: number): T {
  if (!hasKernel(RMS_NORM_GRAD)) return rmsNormStock(x, weight, eps);
  // Forward: the stock kernels, without recording them; backward: one kernel.
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xs, w, save] = args as [tf.Tensor, tf.Tensor1D, tf.GradSaveFunc];
    save([xs, w]);
    return {
      value: rmsNormStock(xs, w, eps),
      gradFunc: (dy: tf.Tensor, [sx, sw]: tf.Tensor[]) => run(RMS_NORM_GRAD, { dy, x: sx as tf.Tensor, weight: sw as tf.Tensor }, { eps }) as tf.Tensor[],
    };
  });
  return op(x, weight) as T;
}

/**
 * Rotary position embedding of x [B, h, T, E] by angles whose cos and sin are
 * [B|1, 1, T, E] (each angle repeated in both halves): x·cos + [-x₂, x₁]·sin.
 */
export function rotary(x: tf.Tensor4D, cos: tf.Tensor4D, sin: tf.Tensor4D): tf.Tensor4D {
  if (hasKernel(ROTARY)) return run(ROTARY, { x, cos, sin }, { inverse: false }) as tf.Tensor4D;
  return tf.tidy(() => tf.add(tf.mul(x, cos), tf.mul(rotateHalf(x), sin))); // [B, h, T, E]
}

/** [-x₂, x₁] of x [..., E]. */
function rotateHalf(x: tf.Tensor): tf.Tensor {
  const half = (x.shape[x.shape.length - 1] as number) / 2;
  const [x1, x2] = tf.split(x, [half, half], -1); // [..., E/2] each
  return tf.concat([tf.neg(x2 as tf.Tensor), x1 as tf.Tensor], -1); // [..., E]
}

/** Sums `t` down to `shape` (the inverse of broadcasting). */
const sumTo = (t: tf.Tensor, shape: readonly number[]): tf.Tensor => {
  const axes = t.shape.map((d, i) => (shape[i] === 1 && d !== 1 ? i : -1)).filter((i) => i >= 0);
  return axes.length > 0 ? tf.sum(t, axes, true) : t;
};

// ---------------------------------------------------------------------------------------
// The rotary gradient (backend-independent: it runs the rotary kernel backwards).

let gradientsRegistered = false;

function registerGradients(): void {
  if (gradientsRegistered) return;
  gradientsRegistered = true;
  tf.registerGradient({
    kernelName: ROTARY,
    inputsToSave: ['x', 'cos', 'sin'],
    gradFunc: (dy, saved) => {
      const [x, cos, sin] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
      const g = dy as tf.Tensor;
      return {
        x: () => run(ROTARY, { x: g, cos, sin }, { inverse: true }) as tf.Tensor,
        // The angles come from integer positions in the model; these are for completeness.
        cos: () => sumTo(tf.mul(g, x), cos.shape),
        sin: () => sumTo(tf.mul(g, rotateHalf(x)), sin.shape),
      };
    },
  });
}

// ---------------------------------------------------------------------------------------
// The wasm kernels: loops over the heap. Outputs are allocated before any input view is
// taken (growing the heap detaches earlier views).

const heap = (wasm: BackendWasm, t: tf.TensorInfo): Float32Array => wasm.typedArrayFromHeap(t) as Float32Array;
const last = (shape: readonly number[]): number => shape[shape.length - 1] as number;

/** The gradients of rmsNorm: [dx, dweight]. */
function rmsNormBackward(wasm: BackendWasm, { dy, x, weight }: Inputs, { eps }: Attrs): tf.TensorInfo[] {
  const X = x as tf.TensorInfo;
  const D = last(X.shape);
  const dxOut = wasm.makeOutput([...X.shape], 'float32');
  const dwOut = wasm.makeOutput([D], 'float32');
  const dx = heap(wasm, dxOut);
  const dw = new Float64Array(D);
  const g = heap(wasm, dy as tf.TensorInfo);
  const xs = heap(wasm, X);
  const w = heap(wasm, weight as tf.TensorInfo);
  const e = eps as number;
  for (let base = 0; base < xs.length; base += D) {
    let ss = 0;
    let dot = 0;
    for (let j = 0; j < D; j++) {
      const xv = xs[base + j] as number;
      ss += xv * xv;
      dot += (g[base + j] as number) * (w[j] as number) * xv;
    }
    const r = 1 / Math.sqrt(ss / D + e);
    const c = (r * r * r * dot) / D;
    for (let j = 0; j < D; j++) {
      const xv = xs[base + j] as number;
      const gv = g[base + j] as number;
      dx[base + j] = r * gv * (w[j] as number) - xv * c;
      dw[j] = (dw[j] as number) + gv * xv * r;
    }
  }
  heap(wasm, dwOut).set(dw);
  return [dxOut, dwOut];
}

function rotaryKernel(wasm: BackendWasm, { x, cos, sin }: Inputs, { inverse }: Attrs): tf.TensorInfo {
  const X = x as tf.TensorInfo;
  const [B, H, T, E] = X.shape as [number, number, number, number];
  const cb = (cos as tf.TensorInfo).shape[0] as number;
  const out = wasm.makeOutput([...X.shape], 'float32');
  const y = heap(wasm, out);
  const xs = heap(wasm, X);
  const c = heap(wasm, cos as tf.TensorInfo);
  const s = heap(wasm, sin as tf.TensorInfo);
  const half = E / 2;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      for (let t = 0; t < T; t++) {
        const o = ((b * H + h) * T + t) * E;
        const a = ((cb === 1 ? 0 : b) * T + t) * E;
        for (let i = 0; i < half; i++) {
          const x1 = xs[o + i] as number;
          const x2 = xs[o + i + half] as number;
          if (inverse) {
            // the gradient: [x₁c₁ + x₂s₂, x₂c₂ − x₁s₁]
            y[o + i] = x1 * (c[a + i] as number) + x2 * (s[a + i + half] as number);
            y[o + i + half] = x2 * (c[a + i + half] as number) - x1 * (s[a + i] as number);
          } else {
            // [x₁c₁ − x₂s₁, x₂c₂ + x₁s₂]
            y[o + i] = x1 * (c[a + i] as number) - x2 * (s[a + i] as number);
            y[o + i + half] = x2 * (c[a + i + half] as number) + x1 * (s[a + i + half] as number);
          }
        }
      }
    }
  }
  return out;
}

let kernelsRegistered = false;

/** Registers the fused kernels for the wasm backend and the rotary gradient (idempotent). */
export function registerFusedKernels(): void {
  registerGradients();
  if (kernelsRegistered) return;
  kernelsRegistered = true;
  const kernels: Record<(typeof KERNELS)[number], (wasm: BackendWasm, inputs: Inputs, attrs: Attrs) => tf.TensorInfo | tf.TensorInfo[]> = {
    [RMS_NORM_GRAD]: rmsNormBackward,
    [ROTARY]: rotaryKernel,
  };
  for (const [kernelName, f] of Object.entries(kernels)) {
    tf.registerKernel({
      kernelName,
      backendName: 'wasm',
      kernelFunc: ({ inputs, backend, attrs }) => f(backend as BackendWasm, inputs as Inputs, (attrs ?? {}) as Attrs) as tf.TensorInfo,
    });
  }
}

/** Unregisters the wasm kernels, so the ops run their stock-op composition (for comparisons). */
export function unregisterFusedKernels(): void {
  if (!kernelsRegistered) return;
  kernelsRegistered = false;
  for (const name of KERNELS) tf.unregisterKernel(name, 'wasm');
}
