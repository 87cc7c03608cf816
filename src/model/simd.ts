/**
 * Warmup's SIMD kernels (simd/kernels.wat), instantiated against the TF.js wasm
 * backend's own memory, so they read and write tensors in place on its heap: a pointer
 * argument is a tensor's byte offset there.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type * as tf from '@tensorflow/tfjs';
import { KERNELS_WASM, KERNELS_WASM_SHARED } from './simd/kernels-wasm.js';

/** The exports of simd/kernels.wat (pointers are byte offsets; lengths in floats). */
export interface SimdKernels {
  swiglu_grad(dy: number, g: number, u: number, dg: number, du: number, n: number): void;
  rms_norm(x: number, w: number, y: number, rows: number, D: number, eps: number): void;
  rms_norm_grad(dy: number, x: number, w: number, dx: number, dw: number, rows: number, D: number, eps: number): void;
  rotary(x: number, cos: number, sin: number, y: number, B: number, H: number, T: number, E: number, cb: number, inverse: number): void;
  masked_softmax_grad(dp: number, p: number, ds: number, rows: number, S: number, scale: number): void;
  log_sum_exp(l: number, lse: number, N: number, V: number): void;
  target_log_prob_grad(dy: number, l: number, lse: number, targets: number, dl: number, N: number, V: number): void;
  sum_squares(x: number, n: number): number;
  adamw(p: number, g: number, m: number, v: number, po: number, mo: number, vo: number, n: number, lr: number, b1: number, b2: number, eps: number, decay: number, bc1: number, bc2: number, scale: number): void;
}

// The WebAssembly API, typed here (the project's TS lib has no DOM types).
interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
}
const WA = (globalThis as unknown as {
  WebAssembly: {
    Memory: abstract new () => WasmMemory;
    Module: new (bytes: Uint8Array) => object;
    Instance: new (module: object, imports: object) => { readonly exports: unknown };
  };
}).WebAssembly;

const instances = new WeakMap<WasmMemory, SimdKernels>();

/** The kernels bound to `wasm`'s heap, or null where its memory cannot be reached. */
export function simdKernels(wasm: BackendWasm): SimdKernels | null {
  // Emscripten keeps the memory as Module.wasmMemory (threaded build) or exports it (plain build).
  const module = wasm.wasm as unknown as { wasmMemory?: WasmMemory; asm?: { memory?: WasmMemory } };
  const memory = module.wasmMemory ?? module.asm?.memory;
  if (!(memory instanceof WA.Memory)) return null;
  let kernels = instances.get(memory);
  if (!kernels) {
    const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    const bytes = Buffer.from(shared ? KERNELS_WASM_SHARED : KERNELS_WASM, 'base64');
    kernels = new WA.Instance(new WA.Module(bytes), { env: { memory } }).exports as SimdKernels;
    instances.set(memory, kernels);
  }
  return kernels;
}

/** The byte offset of a tensor's data on the wasm heap. */
export const pointer = (wasm: BackendWasm, t: tf.TensorInfo): number => wasm.typedArrayFromHeap(t).byteOffset;
