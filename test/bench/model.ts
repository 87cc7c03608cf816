/**
 * Model benchmark, per available TensorFlow.js backend: matmul GFLOP/s (512², 1024²),
 * forward and training tokens/s for the tiny and small presets, sampling tokens/s at
 * batch 1 and 32, and peak memory. Training tokens/s is compared with Debian's
 * PyTorch (CPU, OpenBLAS) running the same architecture and shapes
 * (test/bench/torch_reference.py), measured in the same run when /usr/bin/python3 has
 * torch; its matmul gives the OpenBLAS reference.
 *
 * On wasm the default configuration (matrix products on a system BLAS when one is
 * found, fused SIMD kernels) is measured, then, in the same process, the products on
 * XNNPACK without the fused kernels, to show what each part brings.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { describeBackend, selectBackend, type BackendName } from '../../dist/model/backend.js';
import { registerFusedKernels, unregisterFusedKernels } from '../../dist/model/fused.js';
import { useWasmMatMul } from '../../dist/model/kernels.js';
import { loadBlas } from '../../dist/model/blas.js';
import { generate } from '../../dist/model/sample.js';
import { presetConfig, Transformer } from '../../dist/model/transformer.js';
import { AdamW, DEFAULT_ADAMW } from '../../dist/train/optim.js';
import { loadDefaultTokenizer } from '../../dist/model/default-tokenizer.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const SHAPES = { tiny: { batch: 8, seq: 257 }, small: { batch: 8, seq: 129 } } as const;

function timeIt(fn: () => void, minSeconds = SECONDS): number {
  fn();
  let n = 0;
  const start = performance.now();
  while ((performance.now() - start) / 1000 < minSeconds || n < 2) {
    fn();
    n++;
  }
  return (performance.now() - start) / 1000 / n;
}

function matmulGflops(n: number): number {
  const a = tf.randomNormal([n, n]);
  const b = tf.randomNormal([n, n]);
  // Read results outside tf.tidy: on wasm a dataSync inside a tidy scope is ~20x slower.
  const s = timeIt(() => {
    const c = tf.matMul(a, b);
    c.dataSync();
    c.dispose();
  }, 1);
  a.dispose();
  b.dispose();
  return (2 * n ** 3) / s / 1e9;
}

function modelRates(preset: 'tiny' | 'small', vocab: number): { forward_tokens_per_s: number; train_tokens_per_s: number } {
  const { batch, seq } = SHAPES[preset];
  const model = Transformer.init(presetConfig(preset, vocab), 0);
  const opt = new AdamW(DEFAULT_ADAMW, model.weights);
  const ids = tf.randomUniform([batch, seq], 0, vocab, 'int32') as tf.Tensor2D;
  const x = ids.slice([0, 0], [batch, seq - 1]) as tf.Tensor2D;
  const y = ids.slice([0, 1], [batch, seq - 1]) as tf.Tensor2D;
  const m = tf.onesLike(x) as tf.Tensor2D;
  const tokens = batch * (seq - 1);
  const fwd = timeIt(() => {
    const { logits } = model.forward({ ids: x });
    logits.dataSync();
    logits.dispose();
  });
  const train = timeIt(() => {
    const { value, grads } = tf.variableGrads(() => model.loss({ ids: x, targets: y, lossMask: m }));
    opt.apply(grads, 1e-3);
    value.dataSync();
    value.dispose();
    Object.values(grads).forEach((g) => g.dispose());
  });
  [ids, x, y, m].forEach((t) => t.dispose());
  opt.dispose();
  model.dispose();
  return { forward_tokens_per_s: Math.round(tokens / fwd), train_tokens_per_s: Math.round(tokens / train) };
}

function torchBaseline(vocab: number): Record<string, unknown> {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'torch_reference.py');
  const configs = Object.fromEntries((['tiny', 'small'] as const).map((p) => [p, { ...presetConfig(p, vocab), ...SHAPES[p] }]));
  const r = spawnSync('/usr/bin/python3', [script, JSON.stringify({ configs, matmul: [512, 1024], seconds: SECONDS })], { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) return { unavailable: `Debian PyTorch not usable here (${(r.stderr || r.error?.message || '').trim().split('\n').pop()}); install python3-torch and libopenblas0-pthread` };
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

export async function run(): Promise<unknown> {
  const tokenizer = await loadDefaultTokenizer();
  const vocab = tokenizer.vocabSize;
  const results: Record<string, unknown> = {};
  for (const name of ['node-gpu', 'node', 'wasm', 'cpu'] as BackendName[]) {
    let line: string;
    try {
      line = describeBackend(await selectBackend(name));
    } catch (e) {
      results[name] = { unavailable: (e as Error).message.slice(0, 200) };
      continue;
    }
    const r: Record<string, unknown> = { backend: line, matmul_gflops: { 512: +matmulGflops(512).toFixed(1), 1024: +matmulGflops(1024).toFixed(1) } };
    r.tiny = modelRates('tiny', vocab);
    r.small = name === 'cpu' ? { skipped: 'the cpu backend trains the small preset at a few tokens/s; it is the fallback of last resort' } : modelRates('small', vocab);
    const model = Transformer.init(presetConfig('tiny', vocab), 1);
    const prompt = tokenizer.encode('A very special island is inhabited only by knights and knaves.');
    for (const batch of [1, 32]) {
      const t0 = performance.now();
      const gens = generate(model, tokenizer, Array.from({ length: batch }, () => prompt), { maxNewTokens: 32, temperature: 1, seed: 1 });
      const n = gens.reduce((s, g) => s + g.tokens.length, 0);
      r[`sample_tokens_per_s_batch${batch}`] = Math.round(n / ((performance.now() - t0) / 1000));
    }
    model.dispose();
    r.tf_memory_mb = Math.round(tf.memory().numBytes / 2 ** 20);
    results[name] = r;
    if (name === 'wasm') {
      // The same process, products on XNNPACK and no fused kernels (the Sum, Identity and
      // Gather replacements stay; the thread count stays as chosen above).
      useWasmMatMul('xnnpack');
      unregisterFusedKernels();
      results['wasm-xnnpack-unfused'] = {
        matmul_gflops: { 512: +matmulGflops(512).toFixed(1), 1024: +matmulGflops(1024).toFixed(1) },
        tiny: modelRates('tiny', vocab),
        small: modelRates('small', vocab),
      };
      const blas = await loadBlas();
      useWasmMatMul(blas.blas ?? 'xnnpack');
      registerFusedKernels();
    }
  }
  const torch = torchBaseline(vocab);
  const ratios: Record<string, unknown> = {};
  const torchTrain = (torch.train_tokens_per_s ?? {}) as Record<string, number>;
  type Rates = { tiny?: { train_tokens_per_s: number }; small?: { train_tokens_per_s: number }; matmul_gflops?: Record<string, number> } | undefined;
  const blas = (torch.matmul_gflops as Record<string, number> | undefined)?.['1024'];
  for (const [key, suffix] of [['wasm', ''], ['wasm-xnnpack-unfused', '_xnnpack_unfused']] as const) {
    const w = results[key] as Rates;
    if (w?.tiny && torchTrain.tiny) ratios[`tiny_train_vs_torch${suffix}`] = +(w.tiny.train_tokens_per_s / torchTrain.tiny).toFixed(3);
    if (w?.small && torchTrain.small) ratios[`small_train_vs_torch${suffix}`] = +(w.small.train_tokens_per_s / torchTrain.small).toFixed(3);
    if (w?.matmul_gflops?.['1024'] && blas) ratios[`matmul1024_vs_openblas${suffix}`] = +(w.matmul_gflops['1024'] / blas).toFixed(3);
  }
  return {
    what: 'TF.js model throughput per backend; training = forward + backward + AdamW; shapes tiny B=8 T=256, small B=8 T=128; wasm = default (BLAS products when found, fused SIMD kernels), wasm-xnnpack-unfused = the same process with products on XNNPACK and no fused kernels',
    vocab,
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    backends: results,
    torch,
    ratios,
    targets: { small_train_vs_torch: '>= 1 (stretch 2)', matmul1024_vs_openblas: '>= 0.3' },
  };
}
