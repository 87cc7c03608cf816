/**
 * TensorFlow.js backend selection.
 *
 * `auto` tries, in order: `@tensorflow/tfjs-node-gpu` (CUDA), `@tensorflow/tfjs-node`
 * (libtensorflow on the CPU), the wasm backend (XNNPACK, SIMD), and the pure-JS cpu
 * backend. The two node packages are optional dependencies: their install downloads
 * libtensorflow and is skipped where that fails, so a missing one is an expected
 * fallback, reported with its reason.
 *
 * On wasm, kernels the backend lacks are registered here (the gradient of `tf.gather`
 * needs `UnsortedSegmentSum`).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { availableParallelism } from 'node:os';
import { loadBlas } from './blas.js';
import { loadOrt } from './ort.js';
import { registerFusedKernels } from './fused.js';
import { installWasmGather, installWasmIdentity, installWasmSum, useWasmMatMul, type WasmMatMul } from './kernels.js';
import { prepareWasmThreads, unrefWasmThreads, withDoubledCpus } from './wasm-threads.js';

import { BACKEND_NAMES, type BackendName } from './names.js';

export type { BackendName };
export const BACKENDS: readonly BackendName[] = BACKEND_NAMES;

/** What was chosen and why. */
export interface BackendChoice {
  readonly name: BackendName;
  /** The TF.js backend id: tensorflow, wasm or cpu. */
  readonly tfBackend: string;
  /** Why this one: "fastest available" or the failures of the ones tried before it. */
  readonly reason: string;
  /** XNNPACK threads on wasm; 1 elsewhere. */
  readonly threads: number;
  /** On wasm, what runs matrix products: a BLAS library, or XNNPACK and why. */
  readonly matmul?: string;
}

/**
 * Threads for the wasm backend: WARMUP_WASM_THREADS, else one per core, or one when a
 * BLAS or ONNX Runtime runs the matrix products (they have their own threads; XNNPACK's
 * idle pool then only competes with them: a small-preset training step took 915 ms with
 * two wasm threads against 760 ms with one, on 2 cores).
 */
export function wasmThreadsWanted(withBlas = false): number {
  const env = Number(process.env.WARMUP_WASM_THREADS);
  if (Number.isInteger(env) && env >= 1) return env;
  return withBlas ? 1 : Math.max(1, availableParallelism());
}

// Optional packages, imported by name at run time (absent where their install failed).
const NODE_GPU = '@tensorflow/tfjs-node-gpu';
const NODE_CPU = '@tensorflow/tfjs-node';

let wasmKernelsRegistered = false;

/** Kernels missing from the wasm backend, written against its heap. */
function registerWasmKernels(): void {
  if (wasmKernelsRegistered) return;
  wasmKernelsRegistered = true;
  // WARMUP_FUSED=off keeps the stock kernels (for comparisons).
  if (process.env.WARMUP_FUSED !== 'off') {
    installWasmSum();
    installWasmIdentity();
    installWasmGather();
  }
  tf.registerKernel({
    kernelName: 'UnsortedSegmentSum',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const wasm = backend as BackendWasm;
      const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
      const numSegments = (attrs as { numSegments: number }).numSegments;
      const values = wasm.readSync(x.dataId) as Float32Array;
      const ids = wasm.readSync(segmentIds.dataId) as Int32Array;
      const inner = x.shape.slice(1).reduce((a, b) => a * b, 1);
      const out = wasm.makeOutput([numSegments, ...x.shape.slice(1)], x.dtype);
      const o = wasm.typedArrayFromHeap(out) as Float32Array;
      o.fill(0);
      for (let i = 0; i < ids.length; i++) {
        const s = ids[i] as number;
        if (s < 0 || s >= numSegments) continue;
        const to = s * inner;
        const from = i * inner;
        for (let j = 0; j < inner; j++) o[to + j] = (o[to + j] as number) + (values[from + j] as number);
      }
      return out;
    },
  });
}

/** What runs the wasm backend's matrix products, and the XNNPACK threads that go with it. */
interface MatMulChoice {
  readonly impl: WasmMatMul;
  /** For the backend line: what runs and why. */
  readonly describe: string;
  /** Whether the heap must stay unshared (one XNNPACK thread): a BLAS or ORT runs its own threads. */
  readonly ownThreads: boolean;
}

export const MATMUL_SETTINGS = ['auto', 'blas', 'ort', 'xnnpack'] as const;

/**
 * The product path for the wasm backend. `WARMUP_MATMUL` (auto | blas | ort | xnnpack)
 * picks one; `auto` takes a system BLAS (fastest here: OpenBLAS ~1.1x PyTorch on the
 * small preset), else ONNX Runtime from npm (onnxruntime-node, MLAS), else XNNPACK.
 * ORT needs an unshared heap, so `WARMUP_WASM_THREADS` above 1 rules it out.
 * `WARMUP_STOCK_MATMUL=1` keeps TF.js's own kernel (for comparisons).
 */
async function chooseWasmMatMul(): Promise<MatMulChoice> {
  if (process.env.WARMUP_STOCK_MATMUL === '1') return { impl: 'stock', describe: 'stock XNNPACK kernel (WARMUP_STOCK_MATMUL=1)', ownThreads: false };
  const setting = process.env.WARMUP_MATMUL ?? 'auto';
  if (!(MATMUL_SETTINGS as readonly string[]).includes(setting)) throw new Error(`WARMUP_MATMUL=${setting} is not one of ${MATMUL_SETTINGS.join(', ')}`);
  const threadsSet = Number(process.env.WARMUP_WASM_THREADS) > 1;
  const why: string[] = [];
  if (setting === 'auto' || setting === 'blas') {
    const { blas, ...rest } = await loadBlas();
    if (blas) return { impl: blas, describe: `BLAS ${blas.library}${setting === 'blas' ? ' (WARMUP_MATMUL=blas)' : ''}`, ownThreads: true };
    const reason = 'reason' in rest ? rest.reason : 'none found';
    if (setting === 'blas') throw new Error(`WARMUP_MATMUL=blas, but no BLAS can be used: ${reason}; install one or set WARMUP_MATMUL=auto`);
    why.push(`no system BLAS: ${reason}`);
  }
  if (setting === 'auto' || setting === 'ort') {
    if (threadsSet) {
      if (setting === 'ort') throw new Error(`WARMUP_MATMUL=ort needs one wasm thread (ONNX Runtime cannot read a shared heap), but WARMUP_WASM_THREADS=${process.env.WARMUP_WASM_THREADS}; unset one of them`);
      why.push(`ONNX Runtime not used with WARMUP_WASM_THREADS=${process.env.WARMUP_WASM_THREADS}`);
    } else {
      const found = await loadOrt();
      if (found.ort) return { impl: found.ort, describe: `ONNX Runtime ${found.ort.library} (${setting === 'ort' ? 'WARMUP_MATMUL=ort' : why.join('; ')})`, ownThreads: true };
      if (setting === 'ort') throw new Error(`WARMUP_MATMUL=ort, but ${found.reason}; run npm install, or set WARMUP_MATMUL=auto`);
      why.push(found.reason);
    }
  }
  return { impl: 'xnnpack', describe: `XNNPACK (${setting === 'xnnpack' ? 'WARMUP_MATMUL=xnnpack' : why.join('; ')})`, ownThreads: false };
}

/** The fused SIMD kernels (src/model/fused.ts), once the wasm backend's memory exists. */
function registerFused(): void {
  if (process.env.WARMUP_FUSED !== 'off' && !registerFusedKernels()) {
    process.emitWarning('warmup: the fused SIMD kernels could not reach the wasm heap; running the stock kernels');
  }
}

async function tryBackend(name: BackendName): Promise<{ tfBackend: string; threads: number; matmul?: string }> {
  let threads = 1;
  let matmul: string | undefined;
  switch (name) {
    case 'node-gpu':
      await import(NODE_GPU);
      break;
    case 'node':
      await import(NODE_CPU);
      break;
    case 'wasm': {
      const choice = await chooseWasmMatMul();
      threads = wasmThreadsWanted(choice.ownThreads);
      if (threads > 1) prepareWasmThreads();
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      registerWasmKernels();
      useWasmMatMul(choice.impl);
      matmul = choice.describe;
      if (threads > 1) {
        tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
        wasm.setThreadsCount(threads);
        const ok = await withDoubledCpus(async () => {
          const started = await tf.setBackend('wasm');
          await tf.ready();
          return started;
        });
        if (!ok) throw new Error("tf.setBackend('wasm') failed with threads (set WARMUP_WASM_THREADS=1 to run on one)");
        unrefWasmThreads();
        registerFused();
        return { tfBackend: 'wasm', threads: wasm.getThreadsCount(), matmul };
      }
      break;
    }
    case 'cpu':
      break;
  }
  const tfBackend = name === 'node' || name === 'node-gpu' ? 'tensorflow' : name;
  if (!(await tf.setBackend(tfBackend))) throw new Error(`tf.setBackend('${tfBackend}') failed`);
  await tf.ready();
  if (name === 'wasm') registerFused();
  return { tfBackend, threads, ...(matmul ? { matmul } : {}) };
}

const shortError = (e: unknown): string => {
  const m = e instanceof Error ? e.message : String(e);
  if (/Cannot find (module|package)/.test(m)) return 'not installed';
  return m.split('\n')[0]?.slice(0, 300) ?? m;
};

/**
 * Selects a backend: `auto` takes the first that loads; a named one must load or this
 * throws with the reason.
 */
export async function selectBackend(requested: BackendName | 'auto' = 'auto'): Promise<BackendChoice> {
  if (requested !== 'auto' && !BACKENDS.includes(requested)) {
    throw new Error(`unknown backend '${String(requested)}': use auto, ${BACKENDS.join(', ')}`);
  }
  const order = requested === 'auto' ? BACKENDS : [requested];
  const failures: string[] = [];
  for (const name of order) {
    try {
      const { tfBackend, threads, matmul } = await tryBackend(name);
      const reason = failures.length === 0 ? (requested === 'auto' ? 'fastest available' : 'requested') : `fallback: ${failures.join('; ')}`;
      return { name, tfBackend, reason, threads, ...(matmul ? { matmul } : {}) };
    } catch (e) {
      failures.push(`${name} ${shortError(e)}`);
    }
  }
  throw new Error(`no TensorFlow.js backend could start: ${failures.join('; ')}`);
}

/** One line for logs: "backend: wasm, 2 threads, matmul: BLAS libopenblas.so.0 (fallback: node-gpu not installed; …)". */
export const describeBackend = (c: BackendChoice): string =>
  `backend: ${c.name}${c.name === 'wasm' ? `, ${c.threads} thread${c.threads === 1 ? '' : 's'}` : ''}${c.matmul ? `, matmul: ${c.matmul}` : ''} (${c.reason})`;
