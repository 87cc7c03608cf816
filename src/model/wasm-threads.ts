/**
 * Multithreaded XNNPACK for the TF.js wasm backend in Node.
 *
 * The backend switches threads off under Node (tfjs issue #3830) and would fail anyway:
 * its threaded build hands the pthread worker and main scripts over as Blob URLs, which
 * Node's worker_threads cannot load, and the bundled main script refers to the bundle's
 * renamed `require`s. Before the backend starts, this:
 *
 * 1. turns script Blobs into real temporary files (adding the bundle's `require`
 *    names to the main script), so workers load them by path;
 * 2. replaces the Blob in the worker "load" message by that path; once the backend is
 *    ready, `unrefWasmThreads` lets the pthread workers stop keeping the process alive;
 * 3. makes XNNPACK's pool see twice the cores while it starts (it uses logical cores / 2,
 *    one thread on a 2-core machine), then asks for `threads`.
 *
 * Measured here: 1024² matmul 30 → 63 GFLOP/s with 2 threads.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import os from 'node:os';
import { join } from 'node:path';
import workerThreads from 'node:worker_threads';

let prepared = false;
const pthreads: workerThreads.Worker[] = [];

/** Installs the shims (idempotent). Call before the wasm backend initialises. */
export function prepareWasmThreads(): void {
  if (prepared) return;
  prepared = true;
  const dir = mkdtempSync(join(tmpdir(), 'warmup-tfjs-wasm-'));
  let n = 0;
  const NativeBlob = globalThis.Blob;
  class ScriptBlob extends NativeBlob {
    readonly warmupPath: string | undefined;
    constructor(parts: (string | ArrayBuffer | Blob)[], options?: { type?: string }) {
      super(parts, options);
      if (parts.every((p) => typeof p === 'string') && /javascript/.test(options?.type ?? '')) {
        const text = (parts as string[]).join('');
        const prelude = text.startsWith('var WasmBackendModuleThreadedSimd')
          ? "var require$$0 = require('fs'), require$$1 = require('path'), require$$2 = require('worker_threads'), require$$3 = require('perf_hooks'), require$$4 = require('os'), commonjsGlobal = globalThis;\n"
          : '';
        this.warmupPath = join(dir, `script-${n++}.js`);
        writeFileSync(this.warmupPath, prelude + text);
      }
    }
  }
  globalThis.Blob = ScriptBlob as typeof Blob;
  const createObjectURL = URL.createObjectURL.bind(URL);
  URL.createObjectURL = (obj: Blob): string => (obj instanceof ScriptBlob && obj.warmupPath ? obj.warmupPath : createObjectURL(obj));
  // eslint-disable-next-line @typescript-eslint/unbound-method -- re-bound with .call below
  const post = workerThreads.Worker.prototype.postMessage;
  workerThreads.Worker.prototype.postMessage = function (this: workerThreads.Worker, message: unknown, transfer?: readonly workerThreads.TransferListItem[]): void {
    const m = message as { urlOrBlob?: unknown } | null;
    if (m && m.urlOrBlob instanceof ScriptBlob && m.urlOrBlob.warmupPath) {
      // A pthread of the wasm backend: load its script by path.
      message = { ...m, urlOrBlob: m.urlOrBlob.warmupPath };
      pthreads.push(this);
    }
    post.call(this, message, transfer);
  };
}

/** Lets the process exit while the pthread pool idles (call once the backend is ready). */
export function unrefWasmThreads(): void {
  for (const w of pthreads) w.unref();
}

/** Runs `start` with os.cpus() reporting twice the cores (XNNPACK sizes its pool from half of them). */
export async function withDoubledCpus<T>(start: () => Promise<T>): Promise<T> {
  const cpus = os.cpus;
  os.cpus = () => [...cpus(), ...cpus()];
  try {
    return await start();
  } finally {
    os.cpus = cpus;
  }
}
