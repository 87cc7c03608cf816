/**
 * Transformer ops with fused SIMD kernels on the wasm backend: RMSNorm, rotary
 * embedding, attention softmax, SwiGLU, the log-probability of target tokens, and, for
 * the optimizer, the gradient norm and AdamW.
 *
 * Composed from stock TF.js ops, each of these is 3–15 kernels forward and as many
 * backward, each a pass over memory plus dispatch, with the tape keeping their
 * intermediates. On wasm each is instead one kernel forward and one backward, written in
 * WebAssembly SIMD (simd/kernels.wat) and run in place on the backend's heap. Where a
 * fused forward did not beat XNNPACK's own SIMD kernels (SwiGLU and softmax: XNNPACK's
 * sigmoid takes 1.1 ms for 1M floats, our exp-based SwiGLU 3.5 ms), the forward stays
 * stock, unrecorded, and only the backward is one kernel.
 *
 * The ops fall back to the stock composition, with TF.js autodiff, on other backends
 * (node, node-gpu, cpu), when a length the kernel needs in whole SIMD lanes is not a
 * multiple of 4 (RMSNorm's width, the rotary half, SwiGLU's and AdamW's sizes; the row
 * kernels of the softmax and the target log-probability take any length), and with
 * `WARMUP_FUSED=off`; that composition is the reference the kernels are tested against.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { pointer, simdKernels, type SimdKernels } from './simd.js';

type Inputs = Record<string, tf.TensorInfo>;
type Attrs = Record<string, unknown>;

const RMS_NORM = 'WarmupRmsNorm';
const RMS_NORM_GRAD = 'WarmupRmsNormGrad';
const ROTARY = 'WarmupRotary';
const SOFTMAX_GRAD = 'WarmupMaskedSoftmaxGrad';
const SWIGLU_GRAD = 'WarmupSwiGLUGrad';
const TARGET_LOGP = 'WarmupTargetLogProb';
const TARGET_LOGP_GRAD = 'WarmupTargetLogProbGrad';
const SUM_SQUARES = 'WarmupSumSquares';
/** Kernel name of the fused AdamW update: inputs {param, grad, m, v}, attrs `AdamWAttrs` → [param', m', v']. */
export const ADAMW = 'WarmupAdamW';

const run = (name: string, inputs: Record<string, tf.Tensor>, attrs: Attrs = {}): tf.Tensor | tf.Tensor[] =>
  tf.engine().runKernel(name, inputs as unknown as tf.NamedTensorMap, attrs as tf.NamedAttrMap) as tf.Tensor | tf.Tensor[];
/** Whether the fused kernel `name` runs here, for lengths `n` it processes in whole SIMD lanes of 4. */
const fusable = (name: string, ...lanes: number[]): boolean => lanes.every((n) => n % 4 === 0) && tf.getKernel(name, tf.getBackend()) !== undefined;
const last = (shape: readonly number[]): number => shape[shape.length - 1] as number;

// ---------------------------------------------------------------------------------------
// The ops.

const rmsNormStock = <T extends tf.Tensor>(x: T, weight: tf.Tensor1D, eps: number): T =>
  tf.tidy(() => {
    const variance = tf.mean(tf.square(x), -1, true); // [..., 1]
    return tf.mul(tf.mul(x, tf.rsqrt(tf.add(variance, eps))), weight) as T; // [..., D]
  });

/** x · rsqrt(mean(x², -1) + eps) · weight, over the last axis. x [..., D], weight [D]. */
export function rmsNorm<T extends tf.Tensor>(x: T, weight: tf.Tensor1D, eps: number): T {
  if (!fusable(RMS_NORM_GRAD, last(x.shape))) return rmsNormStock(x, weight, eps);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xs, w, save] = args as [tf.Tensor, tf.Tensor1D, tf.GradSaveFunc];
    save([xs, w]);
    return {
      value: run(RMS_NORM, { x: xs, weight: w }, { eps }) as tf.Tensor,
      gradFunc: (dy: tf.Tensor, [sx, sw]: tf.Tensor[]) => run(RMS_NORM_GRAD, { dy, x: sx as tf.Tensor, weight: sw as tf.Tensor }, { eps }) as tf.Tensor[],
    };
  });
  return op(x, weight) as T;
}

/** [-x₂, x₁] of x [..., E]. */
function rotateHalf(x: tf.Tensor): tf.Tensor {
  const half = last(x.shape) / 2;
  const [x1, x2] = tf.split(x, [half, half], -1); // [..., E/2] each
  return tf.concat([tf.neg(x2 as tf.Tensor), x1 as tf.Tensor], -1); // [..., E]
}

/**
 * Rotary position embedding of x [B, h, T, E] by angles whose cos and sin are
 * [B|1, 1, T, E] (each angle repeated in both halves): x·cos + [-x₂, x₁]·sin.
 */
export function rotary(x: tf.Tensor4D, cos: tf.Tensor4D, sin: tf.Tensor4D): tf.Tensor4D {
  if (fusable(ROTARY, last(x.shape) / 2)) return run(ROTARY, { x, cos, sin }, { inverse: false }) as tf.Tensor4D;
  return tf.tidy(() => tf.add(tf.mul(x, cos), tf.mul(rotateHalf(x), sin))); // [B, h, T, E]
}

const maskedSoftmaxStock = (scores: tf.Tensor, mask: tf.Tensor, scale: number): tf.Tensor => tf.tidy(() => tf.softmax(tf.add(tf.mul(scores, scale), mask)));

/** softmax(scores · scale + mask) over the last axis; scores [B, K, R, S], mask broadcast to them (additive, not differentiated). */
export function maskedSoftmax(scores: tf.Tensor4D, mask: tf.Tensor4D, scale: number): tf.Tensor4D {
  if (!fusable(SOFTMAX_GRAD)) return maskedSoftmaxStock(scores, mask, scale) as tf.Tensor4D;
  // Forward: the stock kernels, not recorded; backward: one kernel from the probabilities.
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [s, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const probs = maskedSoftmaxStock(s, mask, scale);
    save([probs]);
    return { value: probs, gradFunc: (dy: tf.Tensor, [p]: tf.Tensor[]) => run(SOFTMAX_GRAD, { dy, probs: p as tf.Tensor }, { scale }) as tf.Tensor };
  });
  return op(scores) as tf.Tensor4D;
}

const swigluStock = <T extends tf.Tensor>(gate: T, up: T): T => tf.tidy(() => tf.mul(tf.mul(gate, tf.sigmoid(gate)), up) as T);

/** silu(gate) · up, elementwise. */
export function swiglu<T extends tf.Tensor>(gate: T, up: T): T {
  if (!fusable(SWIGLU_GRAD, gate.size)) return swigluStock(gate, up);
  // Forward: the stock kernels (XNNPACK's sigmoid), not recorded; backward: one kernel.
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [g, u, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    save([g, u]);
    return {
      value: swigluStock(g, u),
      gradFunc: (dy: tf.Tensor, [sg, su]: tf.Tensor[]) => run(SWIGLU_GRAD, { dy, gate: sg as tf.Tensor, up: su as tf.Tensor }) as tf.Tensor[],
    };
  });
  return op(gate, up) as T;
}

/** log softmax(logits)[target] at each position: logits [..., V], targets [...] int32 → [...]. */
export function targetLogProbs(logits: tf.Tensor, targets: tf.Tensor): tf.Tensor {
  const V = last(logits.shape);
  if (!fusable(TARGET_LOGP)) return tf.tidy(() => tf.sum(tf.mul(tf.logSoftmax(logits), tf.oneHot(tf.cast(targets, 'int32'), V)), -1));
  const ids = tf.tidy(() => tf.cast(targets.reshape([-1]), 'int32')); // [N]
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [l, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const flat = l.reshape([-1, V]); // [N, V]
    const [logp, lse] = run(TARGET_LOGP, { logits: flat, targets: ids }) as [tf.Tensor, tf.Tensor]; // [N], [N]
    save([flat, lse, ids]);
    const value = logp.reshape(targets.shape);
    tf.dispose([flat, lse, logp]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, [sl, slse, sids]: tf.Tensor[]) =>
        (run(TARGET_LOGP_GRAD, { dy: dy.reshape([-1]), logits: sl as tf.Tensor, lse: slse as tf.Tensor, targets: sids as tf.Tensor }) as tf.Tensor).reshape(l.shape),
    };
  });
  const out = op(logits);
  ids.dispose();
  return out;
}

/** Attributes of one AdamW update of one parameter (the ADAMW kernel). */
export interface AdamWAttrs {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  /** Decoupled weight decay for this parameter (0 for norms and biases). */
  readonly decay: number;
  /** Bias corrections 1 − β₁ᵗ and 1 − β₂ᵗ. */
  readonly bc1: number;
  readonly bc2: number;
  /** Gradient scale from clipping. */
  readonly scale: number;
}

/** Σ x² over all of `tensors` as a float32 scalar (the global gradient norm²), in one kernel on wasm. */
export function sumOfSquares(tensors: readonly tf.Tensor[]): tf.Scalar {
  if (!fusable(SUM_SQUARES, ...tensors.map((t) => t.size))) return tf.tidy(() => tf.addN(tensors.map((g) => tf.sum(tf.square(g)))) as tf.Scalar);
  return run(SUM_SQUARES, Object.fromEntries(tensors.map((t, i) => [String(i), t]))) as tf.Scalar;
}

/** Whether the fused AdamW kernel runs here for a parameter of `size` floats. */
export const fusedAdamW = (size: number): boolean => fusable(ADAMW, size);

// ---------------------------------------------------------------------------------------
// The rotary gradient (registered by kernel name, as the op is one kernel).

let gradientsRegistered = false;

/** Sums `t` down to `shape` (the inverse of broadcasting). */
const sumTo = (t: tf.Tensor, shape: number[]): tf.Tensor => {
  const axes = tf.backend_util.getReductionAxes(shape, t.shape);
  return axes.length > 0 ? tf.sum(t, axes, true) : t;
};

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
// The kernels: allocate outputs, then hand heap offsets to the SIMD code. (Outputs come
// first: growing the heap would move nothing, but detaches typed-array views.)

type Kernel = (simd: SimdKernels, wasm: BackendWasm, inputs: Inputs, attrs: Attrs) => tf.TensorInfo | tf.TensorInfo[];

const out = (wasm: BackendWasm, shape: readonly number[]): tf.TensorInfo => wasm.makeOutput([...shape], 'float32');

const kernels: Record<string, Kernel> = {
  [RMS_NORM]: (simd, wasm, { x, weight }, { eps }) => {
    const X = x as tf.TensorInfo;
    const D = last(X.shape);
    const y = out(wasm, X.shape);
    simd.rms_norm(pointer(wasm, X), pointer(wasm, weight as tf.TensorInfo), pointer(wasm, y), tf.util.sizeFromShape(X.shape) / D, D, eps as number);
    return y;
  },
  [RMS_NORM_GRAD]: (simd, wasm, { dy, x, weight }, { eps }) => {
    const X = x as tf.TensorInfo;
    const D = last(X.shape);
    const dx = out(wasm, X.shape);
    const dw = out(wasm, [D]);
    const p = (t: tf.TensorInfo | undefined): number => pointer(wasm, t as tf.TensorInfo);
    simd.rms_norm_grad(p(dy), p(X), p(weight), p(dx), p(dw), tf.util.sizeFromShape(X.shape) / D, D, eps as number);
    return [dx, dw];
  },
  [ROTARY]: (simd, wasm, { x, cos, sin }, { inverse }) => {
    const X = x as tf.TensorInfo;
    const [B, H, T, E] = X.shape as [number, number, number, number];
    const y = out(wasm, X.shape);
    const p = (t: tf.TensorInfo | undefined): number => pointer(wasm, t as tf.TensorInfo);
    simd.rotary(p(X), p(cos), p(sin), p(y), B, H, T, E, (cos as tf.TensorInfo).shape[0] as number, inverse ? 1 : 0);
    return y;
  },
  [SOFTMAX_GRAD]: (simd, wasm, { dy, probs }, { scale }) => {
    const P = probs as tf.TensorInfo;
    const S = last(P.shape);
    const ds = out(wasm, P.shape);
    simd.masked_softmax_grad(pointer(wasm, dy as tf.TensorInfo), pointer(wasm, P), pointer(wasm, ds), tf.util.sizeFromShape(P.shape) / S, S, scale as number);
    return ds;
  },
  [SWIGLU_GRAD]: (simd, wasm, { dy, gate, up }) => {
    const G = gate as tf.TensorInfo;
    const dg = out(wasm, G.shape);
    const du = out(wasm, G.shape);
    const p = (t: tf.TensorInfo | undefined): number => pointer(wasm, t as tf.TensorInfo);
    simd.swiglu_grad(p(dy), p(G), p(up), p(dg), p(du), tf.util.sizeFromShape(G.shape));
    return [dg, du];
  },
  [TARGET_LOGP]: (simd, wasm, { logits, targets }) => {
    const L = logits as tf.TensorInfo;
    const [N, V] = L.shape as [number, number];
    const logp = out(wasm, [N]);
    const lse = out(wasm, [N]);
    simd.log_sum_exp(pointer(wasm, L), pointer(wasm, lse), N, V);
    const l = wasm.typedArrayFromHeap(L);
    const t = wasm.typedArrayFromHeap(targets as tf.TensorInfo);
    const z = wasm.typedArrayFromHeap(lse);
    const y = wasm.typedArrayFromHeap(logp);
    for (let r = 0; r < N; r++) {
      const target = t[r] as number;
      y[r] = target >= 0 && target < V ? (l[r * V + target] as number) - (z[r] as number) : NaN;
    }
    return [logp, lse];
  },
  [TARGET_LOGP_GRAD]: (simd, wasm, { dy, logits, lse, targets }) => {
    const L = logits as tf.TensorInfo;
    const [N, V] = L.shape as [number, number];
    const dl = out(wasm, L.shape);
    const p = (t: tf.TensorInfo | undefined): number => pointer(wasm, t as tf.TensorInfo);
    simd.target_log_prob_grad(p(dy), p(L), p(lse), p(targets), p(dl), N, V);
    return dl;
  },
  [SUM_SQUARES]: (simd, wasm, inputs) => {
    let total = 0;
    for (const t of Object.values(inputs)) total += simd.sum_squares(pointer(wasm, t), tf.util.sizeFromShape(t.shape));
    const result = out(wasm, []);
    wasm.typedArrayFromHeap(result)[0] = total;
    return result;
  },
  [ADAMW]: (simd, wasm, { param, grad, m, v }, attrs) => {
    const P = param as tf.TensorInfo;
    const outs = [P, m, v].map((t) => out(wasm, (t as tf.TensorInfo).shape)) as [tf.TensorInfo, tf.TensorInfo, tf.TensorInfo];
    const a = attrs as unknown as AdamWAttrs;
    const p = (t: tf.TensorInfo | undefined): number => pointer(wasm, t as tf.TensorInfo);
    simd.adamw(p(P), p(grad), p(m), p(v), p(outs[0]), p(outs[1]), p(outs[2]), tf.util.sizeFromShape(P.shape), a.lr, a.beta1, a.beta2, a.eps, a.decay, a.bc1, a.bc2, a.scale);
    return outs;
  },
};

let kernelsRegistered = false;

/**
 * Registers the fused kernels for the wasm backend (and the rotary gradient); call once
 * the backend is ready. Returns false, registering nothing, where the SIMD module cannot
 * reach the backend's memory.
 */
export function registerFusedKernels(): boolean {
  registerGradients();
  if (kernelsRegistered) return true;
  const simd = simdKernels(tf.findBackend('wasm') as BackendWasm);
  if (!simd) return false;
  kernelsRegistered = true;
  for (const [kernelName, f] of Object.entries(kernels)) {
    tf.registerKernel({
      kernelName,
      backendName: 'wasm',
      kernelFunc: ({ inputs, backend, attrs }) => f(simd, backend as BackendWasm, inputs as Inputs, (attrs ?? {}) as Attrs) as tf.TensorInfo,
    });
  }
  return true;
}

/** Unregisters the wasm kernels, so the ops run their stock composition (for comparisons). */
export function unregisterFusedKernels(): void {
  if (!kernelsRegistered) return;
  kernelsRegistered = false;
  for (const name of Object.keys(kernels)) tf.unregisterKernel(name, 'wasm');
}
