/**
 * Model benchmark, per available TensorFlow.js backend: matmul GFLOP/s (512², 1024²),
 * forward and training tokens/s for the tiny and small presets and for `npm start`'s
 * warmup SFT shape (world: the tiny preset with the shipped base's vocabulary, T=640), sampling tokens/s
 * (KV cache, 256 new tokens, batch 1 and 32, tiny and small), and peak memory.
 * Training and sampling are compared with Debian's PyTorch (CPU, OpenBLAS) running the
 * same architecture and shapes (test/bench/torch_reference.py), measured in the same
 * run when /usr/bin/python3 has torch; its matmul gives the OpenBLAS reference.
 *
 * The wasm backend is measured once per product path (WARMUP_MATMUL=blas, ort,
 * xnnpack; each in its own process, so each gets the thread count it runs with for a
 * user), plus XNNPACK without the fused kernels. `WARMUP_BLAS=off` measures a fresh
 * machine's configuration (no system BLAS) while PyTorch still uses OpenBLAS.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { describeBackend, selectBackend, type BackendName } from '../../dist/model/backend.js';
import { openblasCoreType } from '../../dist/model/blas.js';
import { unregisterFusedKernels } from '../../dist/model/fused.js';
import { generate } from '../../dist/model/sample.js';
import { presetConfig, Transformer } from '../../dist/model/transformer.js';
import { AdamW, DEFAULT_ADAMW } from '../../dist/train/optim.js';
import { loadDefaultTokenizer } from '../../dist/model/default-tokenizer.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const SHAPES = { tiny: { batch: 8, seq: 257 }, small: { batch: 8, seq: 129 } } as const;
/**
 * The warmup SFT of `npm start`: the tiny preset with the shipped world base's 1,611-token
 * vocabulary (the base itself has untied embeddings; the FLOPs are the same) on
 * trace-length rows. Its vocabulary is not a multiple of 4 and its rows
 * are long, which the shapes above do not exercise.
 */
const WORLD = { preset: 'tiny', vocab: 1611, batch: 8, seq: 641 } as const;

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

function modelRates(preset: 'tiny' | 'small', vocab: number, { batch, seq }: { batch: number; seq: number } = SHAPES[preset]): { forward_tokens_per_s: number; train_tokens_per_s: number } {
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

/** Sampling: a 14-token prompt, this many new tokens, T = 1 (the shapes). */
const SAMPLE = { newTokens: 256, batches: [1, 32], promptTokens: 14 } as const;

function samplingRates(preset: 'tiny' | 'small', vocab: number): Record<string, number> {
  const model = Transformer.init(presetConfig(preset, vocab), 1);
  const prompt = Array.from({ length: SAMPLE.promptTokens }, (_, i) => (i * 37 + 5) % vocab);
  const out: Record<string, number> = {};
  const never = { vocabSize: vocab, eos: -1, pad: 0, bos: 0, special: {}, encode: () => [], decode: () => '' } as unknown as Parameters<typeof generate>[1]; // no EOS: every row makes all its tokens, as in PyTorch's loop
  for (const batch of SAMPLE.batches) {
    generate(model, never, [prompt], { maxNewTokens: 4, temperature: 1, seed: 0 }); // warm
    const t0 = performance.now();
    const gens = generate(model, never, Array.from({ length: batch }, () => prompt), { maxNewTokens: SAMPLE.newTokens, temperature: 1, seed: 1 });
    const n = gens.reduce((s, g) => s + g.tokens.length, 0);
    out[`batch${batch}`] = Math.round(n / ((performance.now() - t0) / 1000));
  }
  model.dispose();
  return out;
}

function torchBaseline(vocab: number): Record<string, unknown> {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'torch_reference.py');
  const configs = {
    ...Object.fromEntries((['tiny', 'small'] as const).map((p) => [p, { ...presetConfig(p, vocab), ...SHAPES[p] }])),
    world: { ...presetConfig(WORLD.preset, WORLD.vocab), batch: WORLD.batch, seq: WORLD.seq },
  };
  const sample = { new_tokens: SAMPLE.newTokens, batches: SAMPLE.batches, prompt_tokens: SAMPLE.promptTokens, configs: ['tiny', 'small'] };
  const core = process.env.OPENBLAS_CORETYPE ?? openblasCoreType(); // the same kernels as warmup's BLAS path
  const r = spawnSync('/usr/bin/python3', [script, JSON.stringify({ configs, matmul: [512, 1024], seconds: SECONDS, sample })], { encoding: 'utf8', timeout: 600_000, env: { ...process.env, ...(core ? { OPENBLAS_CORETYPE: core } : {}) } });
  if (r.status !== 0) return { unavailable: `Debian PyTorch not usable here (${(r.stderr || r.error?.message || '').trim().split('\n').pop()}); install python3-torch and libopenblas0-pthread` };
  return { ...(JSON.parse(r.stdout) as Record<string, unknown>), openblas_coretype: core ?? 'detected' };
}

/** One backend (and, on wasm, the product path WARMUP_MATMUL picked), measured in this process. */
async function measure(name: BackendName, vocab: number): Promise<Record<string, unknown>> {
  let line: string;
  try {
    line = describeBackend(await selectBackend(name));
  } catch (e) {
    return { unavailable: (e as Error).message.slice(0, 300) };
  }
  const r: Record<string, unknown> = { backend: line, matmul_gflops: { 512: +matmulGflops(512).toFixed(1), 1024: +matmulGflops(1024).toFixed(1) } };
  if (process.env.BENCH_UNFUSED === '1') unregisterFusedKernels();
  r.tiny = modelRates('tiny', vocab);
  if (name === 'cpu') {
    r.world = { skipped: 'the cpu backend is the fallback of last resort' };
    r.small = { skipped: 'the cpu backend trains the small preset at a few tokens/s; it is the fallback of last resort' };
    return r;
  }
  r.small = modelRates('small', vocab);
  r.world = modelRates(WORLD.preset, WORLD.vocab, WORLD);
  r.sample_tokens_per_s = { tiny: samplingRates('tiny', vocab), small: samplingRates('small', vocab) };
  r.tf_memory_mb = Math.round(tf.memory().numBytes / 2 ** 20);
  r.peak_rss_mb = Math.round(process.resourceUsage().maxRSS / 1024);
  return r;
}

/** Runs `measure` in a child process with `env` added (a product path is chosen once per process). */
function measureIn(name: BackendName, env: Record<string, string>): Record<string, unknown> {
  const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
    encoding: 'utf8',
    timeout: 900_000,
    env: { ...process.env, ...env, WARMUP_BENCH_MODEL_CHILD: name },
  });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !last.startsWith('{')) return { unavailable: `child failed (${r.status}): ${(r.stderr || '').trim().split('\n').slice(-3).join(' | ')}` };
  return JSON.parse(last) as Record<string, unknown>;
}

type Rates = { tiny?: { train_tokens_per_s: number }; small?: { train_tokens_per_s: number }; world?: { train_tokens_per_s?: number }; matmul_gflops?: Record<string, number>; sample_tokens_per_s?: Record<string, Record<string, number>> } | undefined;

/** Each wasm configuration against PyTorch measured in the same run. */
function ratiosAgainst(torch: Record<string, unknown>, results: Record<string, unknown>): Record<string, unknown> {
  const ratios: Record<string, unknown> = {};
  const torchTrain = (torch.train_tokens_per_s ?? {}) as Record<string, number>;
  const torchSample = (torch.sample_tokens_per_s ?? {}) as Record<string, Record<string, number>>;
  const blas = (torch.matmul_gflops as Record<string, number> | undefined)?.['1024'];
  for (const [key, w] of Object.entries(results) as [string, Rates][]) {
    if (!key.startsWith('wasm') || !w) continue;
    const r: Record<string, number> = {};
    if (w.tiny && torchTrain.tiny) r.tiny_train_vs_torch = +(w.tiny.train_tokens_per_s / torchTrain.tiny).toFixed(3);
    if (w.small && torchTrain.small) r.small_train_vs_torch = +(w.small.train_tokens_per_s / torchTrain.small).toFixed(3);
    if (w.world?.train_tokens_per_s && torchTrain.world) r.world_train_vs_torch = +(w.world.train_tokens_per_s / torchTrain.world).toFixed(3);
    if (w.matmul_gflops?.['1024'] && blas) r.matmul1024_vs_openblas = +(w.matmul_gflops['1024'] / blas).toFixed(3);
    for (const [preset, rates] of Object.entries(w.sample_tokens_per_s ?? {})) {
      for (const [batch, v] of Object.entries(rates)) {
        const t = torchSample[preset]?.[batch];
        if (t) r[`${preset}_sample_${batch}_vs_torch`] = +(v / t).toFixed(3);
      }
    }
    ratios[key] = r;
  }
  return ratios;
}

export async function run(): Promise<unknown> {
  const tokenizer = await loadDefaultTokenizer();
  const vocab = tokenizer.vocabSize;
  const results: Record<string, unknown> = {};
  for (const name of ['node-gpu', 'node'] as BackendName[]) results[name] = measureIn(name, {});
  // wasm: the default choice, then each product path on its own.
  results.wasm = measureIn('wasm', {});
  for (const path of ['blas', 'ort', 'xnnpack'] as const) results[`wasm-${path}`] = measureIn('wasm', { WARMUP_MATMUL: path });
  results['wasm-xnnpack-unfused'] = measureIn('wasm', { WARMUP_MATMUL: 'xnnpack', BENCH_UNFUSED: '1' });
  results.cpu = measureIn('cpu', {});
  const torch = torchBaseline(vocab);
  return {
    what: 'TF.js model throughput per backend; training = forward + backward + AdamW; shapes tiny B=8 T=256, small B=8 T=128, world = tiny with the 1,611-token vocabulary of the world base at B=8 T=640 (the warmup SFT of npm start); sampling = KV-cache decoding of 256 new tokens after a 14-token prompt, T=1; wasm = the default choice, wasm-PATH = WARMUP_MATMUL=PATH (each in its own process), wasm-xnnpack-unfused = XNNPACK products and no fused kernels',
    env: { WARMUP_BLAS: process.env.WARMUP_BLAS ?? 'auto' },
    vocab,
    backends: results,
    torch,
    ratios: ratiosAgainst(torch, results),
    targets: { small_train_vs_torch: '>= 1 (stretch 2)', matmul1024_vs_openblas: '>= 0.7 without a system BLAS', sample_batch32_vs_torch: '>= 1' },
  };
}

if (process.env.WARMUP_BENCH_MODEL_CHILD) {
  const tokenizer = await loadDefaultTokenizer();
  process.stdout.write(`${JSON.stringify(await measure(process.env.WARMUP_BENCH_MODEL_CHILD as BackendName, tokenizer.vocabSize))}\n`);
  process.exit(0); // wasm threads would keep the process alive
}
