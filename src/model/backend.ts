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
import { installWasmMatMul } from './kernels.js';
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
}

/** Threads for the wasm backend: WARMUP_WASM_THREADS, else one per core. */
export function wasmThreadsWanted(): number {
  const env = Number(process.env.WARMUP_WASM_THREADS);
  return Number.isInteger(env) && env >= 1 ? env : Math.max(1, availableParallelism());
}

// Optional packages, imported by name at run time (absent where their install failed).
const NODE_GPU = '@tensorflow/tfjs-node-gpu';
const NODE_CPU = '@tensorflow/tfjs-node';

let wasmKernelsRegistered = false;

/** Kernels missing from the wasm backend, written against its heap. */
function registerWasmKernels(): void {
  if (wasmKernelsRegistered) return;
  wasmKernelsRegistered = true;
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

async function tryBackend(name: BackendName): Promise<{ tfBackend: string; threads: number }> {
  let threads = 1;
  switch (name) {
    case 'node-gpu':
      await import(NODE_GPU);
      break;
    case 'node':
      await import(NODE_CPU);
      break;
    case 'wasm': {
      threads = wasmThreadsWanted();
      if (threads > 1) prepareWasmThreads();
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      registerWasmKernels();
      // WARMUP_STOCK_MATMUL=1 keeps the stock kernel (for benchmarks and comparisons).
      if (process.env.WARMUP_STOCK_MATMUL !== '1') installWasmMatMul();
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
        return { tfBackend: 'wasm', threads: wasm.getThreadsCount() };
      }
      break;
    }
    case 'cpu':
      break;
  }
  const tfBackend = name === 'node' || name === 'node-gpu' ? 'tensorflow' : name;
  if (!(await tf.setBackend(tfBackend))) throw new Error(`tf.setBackend('${tfBackend}') failed`);
  await tf.ready();
  return { tfBackend, threads };
}

const shortError = (e: unknown): string => {
  const m = e instanceof Error ? e.message : String(e);
  if (/Cannot find (module|package)/.test(m)) return 'not installed';
  return m.split('\n')[0]?.slice(0, 160) ?? m;
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
      const { tfBackend, threads } = await tryBackend(name);
      const reason = failures.length === 0 ? (requested === 'auto' ? 'fastest available' : 'requested') : `fallback: ${failures.join('; ')}`;
      return { name, tfBackend, reason, threads };
    } catch (e) {
      failures.push(`${name} ${shortError(e)}`);
    }
  }
  throw new Error(`no TensorFlow.js backend could start: ${failures.join('; ')}`);
}

/** One line for logs: "backend: wasm (fallback: node-gpu not installed; node not installed)". */
export const describeBackend = (c: BackendChoice): string =>
  `backend: ${c.name}${c.name === 'wasm' ? `, ${c.threads} thread${c.threads === 1 ? '' : 's'}` : ''} (${c.reason})`;
