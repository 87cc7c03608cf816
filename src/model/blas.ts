/**
 * A system BLAS for the wasm backend's matrix products.
 *
 * WebAssembly has 128-bit SIMD only, so XNNPACK inside the TF.js wasm backend peaks at
 * ~30 GFLOP/s a core, while an optimised BLAS (OpenBLAS, BLIS, Accelerate) uses the
 * machine's full vector width: on the 2-core AVX-512 machine this was built on,
 * OpenBLAS's sgemm runs at ~200 GFLOP/s against XNNPACK's ~60. When such a library is
 * installed (Debian: `apt install libopenblas0-pthread`), `cblas_sgemm` is called
 * through koffi (an FFI with prebuilt binaries, an optional dependency) directly on the
 * wasm heap, with no copies.
 *
 * `WARMUP_BLAS`: unset or `auto` looks for a known fast library; `off` never uses one;
 * a path (or library name) loads that one, and failing to is an error.
 */
import { readFileSync, realpathSync } from 'node:fs';

/** Row-major single-precision GEMM: C = A·B with optional transposes (C overwritten). */
export type Sgemm = (
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  A: Float32Array,
  lda: number,
  B: Float32Array,
  ldb: number,
  C: Float32Array,
  ldc: number,
) => void;

export interface Blas {
  /** The library file that was loaded. */
  readonly library: string;
  readonly sgemm: Sgemm;
  /**
   * Runs `f` with the library on one thread, where it can be told (OpenBLAS): small
   * products (attention's per-head ones) run ~1.5× faster on one thread than split over
   * two (measured here: 256×128×40 at 80 against 57 GFLOP/s).
   */
  readonly singleThreaded: (f: () => void) => void;
}

/** Libraries tried by `auto`, fastest kinds first. The reference BLAS (~4 GFLOP/s) is never picked. */
const CANDIDATES: Record<string, readonly string[]> = {
  linux: [
    'libopenblas.so.0',
    'libopenblas.so',
    'libblis.so.4',
    'libblis.so',
    '/usr/lib/x86_64-linux-gnu/libblas.so.3',
    '/usr/lib/aarch64-linux-gnu/libblas.so.3',
  ],
  darwin: ['/System/Library/Frameworks/Accelerate.framework/Accelerate'],
};

// CBLAS enum values.
const ROW_MAJOR = 101;
const NO_TRANS = 111;
const TRANS = 112;

/** A generic libblas.so.3 is only worth using when it resolves to an optimised implementation. */
function isOptimised(path: string): boolean {
  if (!path.includes('libblas.so')) return true;
  try {
    return /openblas|blis|mkl/i.test(realpathSync(path));
  } catch {
    return false;
  }
}

/**
 * OpenBLAS's kernel family for this CPU, from its flags: OpenBLAS's own detection falls
 * back to Prescott (SSE3) on CPUs it does not know by model number, as on the virtual
 * machines this was built on, where 1024² sgemm then ran at ~30 instead of ~180 GFLOP/s.
 * Undefined when OPENBLAS_CORETYPE is set already or the flags cannot be read.
 */
export function openblasCoreType(cpuinfo?: string): string | undefined {
  if (process.env.OPENBLAS_CORETYPE) return undefined;
  let text = cpuinfo;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      return undefined;
    }
  }
  const flags = new Set((/^flags\s*:(.*)$/m.exec(text)?.[1] ?? '').trim().split(/\s+/));
  if (flags.has('avx512_bf16')) return 'Cooperlake';
  if (flags.has('avx512f') && flags.has('avx512vl')) return 'SkylakeX';
  if (flags.has('avx2') && flags.has('fma')) return 'Haswell';
  return undefined;
}

/** The part of koffi used here (typed locally: koffi is optional, so its types may be absent). */
interface Koffi {
  load(path: string): { func(signature: string): (...args: unknown[]) => unknown };
}

function open(koffi: Koffi, library: string): Blas {
  // OpenBLAS reads OPENBLAS_CORETYPE once, when it loads (see openblasCoreType).
  let real = library;
  try {
    real = realpathSync(library);
  } catch {
    // a bare library name: the loader finds it
  }
  const core = /openblas/i.test(real) ? openblasCoreType() : undefined;
  if (core) process.env.OPENBLAS_CORETYPE = core;
  const lib = koffi.load(library);
  const fn = lib.func('void cblas_sgemm(int, int, int, int, int, int, float, float *, int, float *, int, float, float *, int)');
  let setThreads: ((n: number) => unknown) | null = null;
  let threads = 1;
  try {
    setThreads = lib.func('void openblas_set_num_threads(int)');
    threads = lib.func('int openblas_get_num_threads()')() as number;
  } catch {
    // not OpenBLAS: leave its threading alone
  }
  return {
    library: core ? `${library} (OPENBLAS_CORETYPE=${core}, from the CPU flags)` : library,
    singleThreaded: (f) => {
      if (!setThreads || threads <= 1) return f();
      setThreads(1);
      try {
        f();
      } finally {
        setThreads(threads);
      }
    },
    sgemm: (transA, transB, M, N, K, A, lda, B, ldb, C, ldc) => {
      fn(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS, M, N, K, 1, A, lda, B, ldb, 0, C, ldc);
    },
  };
}

/** The BLAS found, or why none is used. */
export type BlasLookup = { readonly blas: Blas } | { readonly blas: null; readonly reason: string };

const lookups = new Map<string, BlasLookup>();

/**
 * The BLAS that `WARMUP_BLAS` asks for (see the module comment), looked up once per
 * setting: the backend is selected again whenever a caller switches back to wasm.
 */
export async function loadBlas(setting = process.env.WARMUP_BLAS ?? 'auto'): Promise<BlasLookup> {
  const known = lookups.get(setting);
  if (known) return known;
  const found = await findBlas(setting);
  lookups.set(setting, found);
  return found;
}

async function findBlas(setting: string): Promise<BlasLookup> {
  if (setting === 'off') return { blas: null, reason: 'WARMUP_BLAS=off' };
  let koffi: Koffi;
  try {
    koffi = ((await import('koffi')) as { default: Koffi }).default;
  } catch (e) {
    const why = (e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' ? 'it is not installed' : (e as Error).message.split('\n')[0];
    if (setting !== 'auto') throw new Error(`WARMUP_BLAS=${setting}: the optional package koffi, needed to call a BLAS, did not load (${why}); reinstall with npm install, or unset WARMUP_BLAS`, { cause: e });
    return { blas: null, reason: 'koffi (optional dependency) not installed' };
  }
  if (setting !== 'auto') {
    try {
      return { blas: open(koffi, setting) };
    } catch (e) {
      throw new Error(`WARMUP_BLAS=${setting}: cannot load cblas_sgemm (${(e as Error).message.split('\n')[0]}); set it to an OpenBLAS/BLIS library, or to off`, { cause: e });
    }
  }
  for (const library of CANDIDATES[process.platform] ?? []) {
    if (!isOptimised(library)) continue;
    try {
      return { blas: open(koffi, library) };
    } catch {
      // not installed here; try the next
    }
  }
  return { blas: null, reason: 'no OpenBLAS/BLIS/Accelerate found (Debian: apt install libopenblas0-pthread)' };
}
