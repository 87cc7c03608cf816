// The wasm kernels registered over the stock ones (matmul through a BLAS, ONNX Runtime or XNNPACK,
// leading-axis Sum, copy-free Identity) and the fused transformer ops must equal the
// stock kernels (checked against the cpu backend or the stock composition), with
// gradients, and leak nothing.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { describeBackend, selectBackend } from '../../src/model/backend.js';
import { loadBlas, openblasCoreType } from '../../src/model/blas.js';
import { findOrt, loadOrt } from '../../src/model/ort.js';
import { maskedSoftmax, registerFusedKernels, rmsNorm, rotary, sumOfSquares, swiglu, targetLogProbs, unregisterFusedKernels } from '../../src/model/fused.js';
import { AdamW, DEFAULT_ADAMW } from '../../src/train/optim.js';
import { maxAbsDiff, ROOT } from '../helpers.js';
import { useWasmMatMul, type WasmMatMul } from '../../src/model/kernels.js';
import { attentionBias, presetConfig, Transformer } from '../../src/model/transformer.js';

const cases: [number[], number[], boolean, boolean][] = [
  [[64, 32], [32, 48], false, false],
  [[32, 64], [32, 48], true, false],
  [[64, 32], [48, 32], false, true],
  [[32, 64], [48, 32], true, true],
  [[3, 64, 32], [32, 48], false, false],
  [[3, 32, 64], [48, 32], true, true],
  [[3, 64, 32], [3, 48, 32], false, true],
  [[2, 3, 16, 8], [2, 3, 8, 16], false, false],
  [[2, 3, 8, 16], [2, 3, 8, 16], true, false],
  [[1, 64, 32], [3, 32, 48], false, false],
  [[4, 16, 8], [1, 8, 16], false, false],
  [[5, 1, 7], [5, 7, 1], false, false],
];

const blas = await loadBlas('auto');
if (!blas.blas) console.log(`[skip] BLAS matmul kernel tests: ${blas.reason}`);
const ort = await loadOrt();
if (!ort.ort) console.log(`[skip] ONNX Runtime matmul kernel tests: ${ort.reason}`);
const matmuls: [string, WasmMatMul | null][] = [
  ['xnnpack', 'xnnpack'],
  ['blas', blas.blas],
  ['ort', ort.ort],
];

describe('BLAS lookup (WARMUP_BLAS)', () => {
  it("sets OpenBLAS's kernel family from the CPU flags unless OPENBLAS_CORETYPE is set", () => {
    const saved = process.env.OPENBLAS_CORETYPE;
    delete process.env.OPENBLAS_CORETYPE;
    try {
      expect(openblasCoreType('flags\t: fpu sse2 avx2 fma avx512f avx512vl avx512_bf16\n')).toBe('Cooperlake');
      expect(openblasCoreType('flags\t: fpu sse2 avx2 fma avx512f avx512vl\n')).toBe('SkylakeX');
      expect(openblasCoreType('flags\t: fpu sse2 avx2 fma\n')).toBe('Haswell');
      expect(openblasCoreType('flags\t: fpu sse2\n')).toBeUndefined();
      process.env.OPENBLAS_CORETYPE = 'Zen';
      expect(openblasCoreType('flags\t: avx2 fma\n')).toBeUndefined();
    } finally {
      if (saved === undefined) delete process.env.OPENBLAS_CORETYPE;
      else process.env.OPENBLAS_CORETYPE = saved;
    }
  });

  it('off uses none and says so; a library that cannot load is an error naming it and what to do', async () => {
    expect(await loadBlas('off')).toEqual({ blas: null, reason: 'WARMUP_BLAS=off' });
    await expect(loadBlas('/nonexistent/libopenblas.so')).rejects.toThrow(/WARMUP_BLAS=\/nonexistent\/libopenblas\.so: (cannot load cblas_sgemm|the optional package koffi).*(OpenBLAS\/BLIS library, or to off|unset WARMUP_BLAS)/);
  });
});

describe.each(matmuls)('wasm BatchMatMul kernel (%s)', (_, impl) => {
  afterAll(async () => {
    await selectBackend('wasm'); // back to the default choice
  });

  it.skipIf(impl === null)('equals the cpu backend in every transpose and batch form, and leaks nothing', async () => {
    await selectBackend('cpu');
    const want = cases.map(([sa, sb, ta, tb]) => tf.tidy(() => tf.matMul(tf.randomNormal(sa, 0, 1, 'float32', 1), tf.randomNormal(sb, 0, 1, 'float32', 2), ta, tb).dataSync()));
    await selectBackend('wasm');
    useWasmMatMul(impl as WasmMatMul);
    const before = tf.memory().numTensors;
    cases.forEach(([sa, sb, ta, tb], i) => {
      const got = tf.tidy(() => tf.matMul(tf.randomNormal(sa, 0, 1, 'float32', 1), tf.randomNormal(sb, 0, 1, 'float32', 2), ta, tb));
      expect(maxAbsDiff(got.dataSync(), want[i] as Float32Array), `${JSON.stringify([sa, sb, ta, tb])}`).toBeLessThan(1e-4);
      got.dispose();
    });
    expect(tf.memory().numTensors).toBe(before);
  });

  it.skipIf(impl === null)('gives the same gradients as the cpu backend through a transposed product', async () => {
    const f = (x: tf.Tensor, w: tf.Tensor): tf.Scalar => tf.sum(tf.square(tf.matMul(x, w, false, true)));
    const run = async (backend: 'cpu' | 'wasm') => {
      await selectBackend(backend);
      if (backend === 'wasm') useWasmMatMul(impl as WasmMatMul);
      return tf.tidy(() => {
        const x = tf.randomNormal([10, 8], 0, 1, 'float32', 3);
        const w = tf.randomNormal([6, 8], 0, 1, 'float32', 4);
        const q = tf.randomNormal([2, 5, 8], 0, 1, 'float32', 5);
        const k = tf.randomNormal([2, 6, 8], 0, 1, 'float32', 6);
        return [...tf.grads(f)([x, w]), ...tf.grads(f)([q, k])].map((g) => g.dataSync());
      });
    };
    const cpu = await run('cpu');
    const wasm = await run('wasm');
    for (let i = 0; i < 4; i++) expect(maxAbsDiff(cpu[i] as Float32Array, wasm[i] as Float32Array)).toBeLessThan(1e-3);
  });
});

describe('wasm Sum and Identity kernels', () => {
  it('sum over leading axes (and any other) equals the cpu backend', async () => {
    const sums: [number[], number | number[], boolean][] = [
      [[64, 48], 0, false],
      [[4, 16, 48], [0, 1], false],
      [[4, 16, 48], [1, 0], true],
      [[4, 16, 48], -1, false],
      [[4, 16, 48], [0, 2], false],
      [[7], 0, false],
    ];
    const run = async (backend: 'cpu' | 'wasm') => {
      await selectBackend(backend);
      return sums.map(([shape, axis, keep]) => tf.tidy(() => {
        const y = tf.sum(tf.randomNormal(shape, 0, 1, 'float32', 9), axis, keep);
        return { shape: y.shape, values: y.dataSync() };
      }));
    };
    const cpu = await run('cpu');
    const wasm = await run('wasm');
    sums.forEach((c, i) => {
      expect(wasm[i]?.shape, JSON.stringify(c)).toEqual(cpu[i]?.shape);
      expect(maxAbsDiff(wasm[i]?.values as Float32Array, cpu[i]?.values as Float32Array), JSON.stringify(c)).toBeLessThan(1e-4);
    });
  });

  it('gathers embedding rows as the cpu backend does, and names an index out of range', async () => {
    const run = async (backend: 'cpu' | 'wasm') => {
      await selectBackend(backend);
      return tf.tidy(() => {
        const table = tf.randomNormal([10, 6], 0, 1, 'float32', 4);
        const ids = tf.tensor2d([[0, 9, 3], [3, 3, 1]], [2, 3], 'int32');
        const y = tf.gather(table, ids);
        const g = tf.grad((t: tf.Tensor) => tf.sum(tf.square(tf.gather(t, ids))))(table);
        return { shape: y.shape, y: y.dataSync(), g: g.dataSync() };
      });
    };
    const cpu = await run('cpu');
    const wasm = await run('wasm');
    expect(wasm.shape).toEqual([2, 3, 6]);
    expect(maxAbsDiff(wasm.y, cpu.y)).toBe(0);
    expect(maxAbsDiff(wasm.g, cpu.g)).toBeLessThan(1e-6);
    const before = tf.memory().numTensors;
    expect(() => tf.tidy(() => tf.gather(tf.zeros([4, 2]), tf.tensor1d([1, 4], 'int32')))).toThrow(/index value 4 is not in \[0, 3\]/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a clone shares the data and outlives the original', async () => {
    await selectBackend('wasm');
    const before = tf.memory().numTensors;
    const x = tf.tensor1d([1, 2, 3]);
    const y = tf.clone(x);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3]);
    y.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('fused transformer ops (wasm)', () => {
  it('run the SIMD module built from the committed kernels.wat', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts/build-simd.mjs'), '--check'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  // Values and gradients (against a random cotangent) of each op, fused and as stock
  // kernels, on the same inputs.
  const check = (f: (...x: tf.Tensor[]) => tf.Tensor, inputs: () => tf.Tensor[]): number => {
    const run = (): Float32Array[] => tf.tidy(() => {
      const xs = inputs();
      const y = f(...xs);
      const w = tf.randomNormal(y.shape, 0, 1, 'float32', 3);
      return [y, ...tf.grads((...a: tf.Tensor[]) => tf.sum(tf.mul(f(...a), w)))(xs)].map((t) => t.dataSync() as Float32Array);
    });
    const before = tf.memory().numTensors;
    const fused = run();
    expect(tf.memory().numTensors, 'no tensor leaks').toBe(before);
    unregisterFusedKernels();
    try {
      const stock = run();
      // Largest difference relative to 1 + |stock value|.
      return Math.max(...fused.map((a, i) => Math.max(...Array.from(a, (v, j) => Math.abs(v - (stock[i]?.[j] as number)) / (1 + Math.abs(stock[i]?.[j] as number))))));
    } finally {
      registerFusedKernels();
    }
  };

  it('RMSNorm equals its stock composition, with gradients', async () => {
    await selectBackend('wasm');
    expect(check((x, w) => rmsNorm(x as tf.Tensor, w as tf.Tensor1D, 1e-6), () => [tf.randomNormal([3, 5, 24], 0, 2, 'float32', 1), tf.randomNormal([24], 1, 0.5, 'float32', 2)])).toBeLessThan(2e-5);
  });

  it('the rotary embedding equals its stock composition, with gradients, shared or per-row angles', async () => {
    await selectBackend('wasm');
    for (const cb of [1, 2]) {
      const angles = (): tf.Tensor => tf.tile(tf.randomUniform([cb, 1, 7, 4], 0, 6, 'float32', 4), [1, 1, 1, 2]);
      const err = check((x, c, s) => rotary(x as tf.Tensor4D, c as tf.Tensor4D, s as tf.Tensor4D), () => {
        const a = angles();
        return [tf.randomNormal([2, 3, 7, 8], 0, 1, 'float32', 5), tf.cos(a), tf.sin(a)];
      });
      expect(err, `cos/sin batch ${cb}`).toBeLessThan(1e-5);
    }
  });

  it('the attention softmax equals its stock composition, with gradients, for a shared or per-row mask and rows of any length', async () => {
    await selectBackend('wasm');
    for (const S of [8, 7, 3]) {
      for (const mb of [1, 2]) {
        const mask = tf.tidy(() => tf.mul(tf.sub(1, tf.tile(tf.linalg.bandPart(tf.ones([6, S]), -1, 2).reshape([1, 1, 6, S]), [mb, 1, 1, 1])), -1e9));
        const err = check((s) => maskedSoftmax(s as tf.Tensor4D, mask as tf.Tensor4D, 0.35), () => [tf.randomNormal([2, 3, 6, S], 0, 3, 'float32', 6)]);
        mask.dispose();
        expect(err, `rows of ${S}, mask batch ${mb}`).toBeLessThan(1e-6);
      }
    }
  });

  it('SwiGLU equals its stock composition, with gradients, over the range of the exponential', async () => {
    await selectBackend('wasm');
    expect(check((g, u) => swiglu(g as tf.Tensor, u as tf.Tensor), () => [tf.randomNormal([16, 12], 0, 30, 'float32', 7), tf.randomNormal([16, 12], 0, 1, 'float32', 8)])).toBeLessThan(1e-5);
  });

  it('target log-probabilities equal the stock log-softmax, with gradients, for any vocabulary size', async () => {
    await selectBackend('wasm');
    for (const V of [12, 13, 3]) {
      const targets = tf.tensor2d([[0, 5 % V, V - 1], [3 % V, 3 % V, 7 % V]], [2, 3], 'int32');
      const err = check((l) => targetLogProbs(l as tf.Tensor, targets), () => [tf.randomNormal([2, 3, V], 0, 5, 'float32', 9)]);
      targets.dispose();
      expect(err, `V=${V}`).toBeLessThan(2e-5);
    }
  });

  it("builds the attention mask the stock ops built: causal, padding, packed segments, a cache's past, grouped heads", async () => {
    await selectBackend('wasm');
    // The composition forward used before the mask was built in JS.
    const stock = (B: number, T: number, past: number, G: number, keep?: tf.Tensor2D, seg?: tf.Tensor2D): tf.Tensor => tf.tidy(() => {
      const S = past + T;
      const causal = T === 1 ? tf.ones([1, S]) : tf.linalg.bandPart(tf.ones([S, S]), -1, 0).slice([past, 0], [T, S]);
      let allowed: tf.Tensor = causal.reshape([1, 1, T, S]);
      if (keep) allowed = tf.mul(allowed, tf.cast(keep, 'float32').reshape([B, 1, 1, S]));
      if (seg) allowed = tf.mul(allowed, tf.cast(tf.equal(seg.reshape([B, 1, T, 1]), seg.reshape([B, 1, 1, T])), 'float32'));
      const mask = tf.mul(tf.sub(1, allowed), -1e9);
      return G === 1 ? mask : tf.tile(mask, [1, 1, G, 1]);
    });
    const cases: [string, number, number, number, number, (tf.Tensor2D | undefined)?, tf.Tensor2D?][] = [
      ['causal', 2, 5, 0, 2],
      ['one query head per key head', 1, 4, 0, 1],
      ['padding', 2, 3, 0, 3, tf.tensor2d([[0, 1, 1], [1, 1, 1]], [2, 3], 'int32')],
      ['a cache and padding', 2, 2, 3, 2, tf.tensor2d([[0, 0, 1, 1, 1], [1, 1, 1, 1, 1]], [2, 5], 'int32')],
      ['one new token after a cache', 3, 1, 4, 2, tf.tensor2d([[1, 1, 1, 0, 1], [1, 1, 1, 1, 1], [0, 1, 1, 1, 1]], [3, 5], 'int32')],
      ['packed segments with padding', 2, 6, 0, 2, undefined, tf.tensor2d([[0, 0, 1, 1, 1, 2], [0, 0, 0, 0, -1, -1]], [2, 6], 'int32')],
    ];
    for (const [what, B, T, past, G, keep, seg] of cases) {
      const ours = attentionBias(B, T, past, G, keep, seg);
      const theirs = stock(B, T, past, G, keep, seg);
      expect(ours.shape, what).toEqual(keep || seg ? [B, 1, G * T, past + T] : [1, 1, G * T, past + T]);
      expect(maxAbsDiff(ours.dataSync() as Float32Array, tf.broadcastTo(theirs, ours.shape).dataSync() as Float32Array), what).toBe(0);
      tf.dispose([ours, theirs, ...(keep ? [keep] : []), ...(seg ? [seg] : [])]);
    }
  });

  it('the sum of squares over many tensors (the gradient norm) equals the stock reduction', async () => {
    await selectBackend('wasm');
    const run = (): number => tf.tidy(() => {
      const ts = [tf.randomNormal([300, 40], 0, 3, 'float32', 40), tf.randomNormal([8], 0, 1, 'float32', 41), tf.randomNormal([2, 2, 4], 0, 1e3, 'float32', 42)];
      return sumOfSquares(ts).dataSync()[0] as number;
    });
    const fused = run();
    unregisterFusedKernels();
    try {
      expect(Math.abs(fused - run()) / fused).toBeLessThan(1e-6);
    } finally {
      registerFusedKernels();
    }
  });

  it('the fused AdamW step equals the stock-op update, weight decay, anchor decay, clipping and bias correction included', async () => {
    await selectBackend('wasm');
    const steps = (): Float32Array[] => {
      const weights = new Map([
        ['w', tf.tidy(() => tf.variable(tf.randomNormal([8, 12], 0, 1, 'float32', 10)))],
        ['b', tf.tidy(() => tf.variable(tf.randomNormal([12], 0, 1, 'float32', 11)))],
      ]);
      const opt = new AdamW({ ...DEFAULT_ADAMW, clipNorm: 0.5, anchorDecay: 3 }, weights);
      for (let i = 0; i < 3; i++) {
        const grads = { w: tf.randomNormal([8, 12], 0, 2, 'float32', 20 + i), b: tf.randomNormal([12], 0, 2, 'float32', 30 + i) };
        opt.apply(grads, 1e-2);
        tf.dispose(Object.values(grads));
      }
      const out = [...weights.values(), ...opt.state().values()].map((t) => t.dataSync() as Float32Array);
      opt.dispose();
      weights.forEach((w) => w.dispose());
      return out;
    };
    const before = tf.memory().numTensors;
    const fused = steps();
    expect(tf.memory().numTensors).toBe(before);
    unregisterFusedKernels();
    try {
      const stock = steps();
      fused.forEach((f, i) => expect(maxAbsDiff(f, stock[i] as Float32Array), `tensor ${i}`).toBeLessThan(1e-6));
    } finally {
      registerFusedKernels();
    }
  });

  it.each(matmuls)("a whole transformer gives the cpu backend's loss and gradients (matmul: %s)", async (_, impl) => {
    if (impl === null) return; // said at the top: this product path is absent here
    // A vocabulary and a length that are not multiples of the SIMD width: the row kernels' tails run too.
    const config = presetConfig('tiny', 67, { hiddenSize: 32, intermediateSize: 48, numLayers: 2, numHeads: 4, numKvHeads: 2 });
    const run = async (backend: 'cpu' | 'wasm') => {
      await selectBackend(backend);
      if (backend === 'wasm') useWasmMatMul(impl);
      const model = Transformer.init(config, 12);
      const ids = tf.tensor2d(Array.from({ length: 2 * 10 }, (_, i) => (i * 7) % 67), [2, 10], 'int32');
      const x = ids.slice([0, 0], [2, 9]) as tf.Tensor2D;
      const y = ids.slice([0, 1], [2, 9]) as tf.Tensor2D;
      const { value, grads } = tf.variableGrads(() => model.loss({ ids: x, targets: y, lossMask: tf.onesLike(x) as tf.Tensor2D }));
      const out = { loss: value.dataSync()[0] as number, grads: model.variables().map((v) => (grads[v.name] as tf.Tensor).dataSync() as Float32Array) };
      tf.dispose([ids, x, y, value, ...Object.values(grads)]);
      model.dispose();
      return out;
    };
    const cpu = await run('cpu');
    const wasm = await run('wasm');
    await selectBackend('wasm'); // back to the default choice
    expect(Math.abs(cpu.loss - wasm.loss)).toBeLessThan(1e-5);
    cpu.grads.forEach((g, i) => expect(maxAbsDiff(g, wasm.grads[i] as Float32Array)).toBeLessThan(1e-4));
  });
});

describe('product path choice (WARMUP_MATMUL)', () => {
  const withEnv = async (env: Record<string, string | undefined>, f: () => Promise<void>): Promise<void> => {
    const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
    Object.assign(process.env, env);
    for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k];
    try {
      await f();
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      await selectBackend('wasm');
    }
  };

  it('names the path that runs, and why, on the backend line', async () => {
    await withEnv({ WARMUP_MATMUL: 'xnnpack' }, async () => {
      expect(describeBackend(await selectBackend('wasm'))).toMatch(/matmul: XNNPACK \(WARMUP_MATMUL=xnnpack\)/);
    });
    await withEnv({ WARMUP_MATMUL: undefined, WARMUP_BLAS: 'off' }, async () => {
      const line = describeBackend(await selectBackend('wasm'));
      if (ort.ort) expect(line).toMatch(/1 thread, matmul: ONNX Runtime onnxruntime-node 1\.30\.0 \(MLAS, \d threads?\) \(no system BLAS: WARMUP_BLAS=off\)/);
      else expect(line).toMatch(/matmul: XNNPACK \(no system BLAS: WARMUP_BLAS=off; /);
    });
  });

  it('refuses an unknown setting, and a forced path that cannot run, naming what to do', async () => {
    await withEnv({ WARMUP_MATMUL: 'gpu' }, async () => {
      await expect(selectBackend('wasm')).rejects.toThrow(/WARMUP_MATMUL=gpu is not one of auto, blas, ort, xnnpack/);
    });
    await withEnv({ WARMUP_MATMUL: 'blas', WARMUP_BLAS: 'off' }, async () => {
      await expect(selectBackend('wasm')).rejects.toThrow(/WARMUP_MATMUL=blas, but no BLAS can be used: WARMUP_BLAS=off; install one or set WARMUP_MATMUL=auto/);
    });
    await withEnv({ WARMUP_MATMUL: 'ort', WARMUP_WASM_THREADS: '2' }, async () => {
      await expect(selectBackend('wasm')).rejects.toThrow(/WARMUP_MATMUL=ort needs one wasm thread .* WARMUP_WASM_THREADS=2/);
    });
  });

  it('without the optional package, ONNX Runtime is reported missing (and auto falls back)', () => {
    const missing = (id: string): never => {
      throw Object.assign(new Error(`Cannot find module '${id}'`), { code: 'MODULE_NOT_FOUND' });
    };
    expect(findOrt(missing)).toEqual({ ort: null, reason: 'onnxruntime-node (optional dependency) not installed' });
    const otherVersion = (id: string): unknown => (id.endsWith('package.json') ? { version: '1.31.0' } : {});
    expect(findOrt(otherVersion)).toEqual({ ort: null, reason: expect.stringMatching(/onnxruntime-node 1\.31\.0 installed, but warmup calls its native binding as of 1\.30\.0/) as unknown });
  });

});
