/**
 * `npm run bench -- big`: a model of Qwen2.5-0.5B's published shape (hidden 896, 24
 * layers, 14 heads, 2 KV heads, intermediate 4864, vocabulary 151,936, tied
 * embeddings), random weights, on the default backend. Measures: writing and loading its
 * BF16 checkpoint (~1 GB), KV-cache sampling at batch 1 and 16, one LoRA SFT step and one
 * LoRA GRPO update (r 8 on every linear layer) with tokens/s and peak RSS, and whether a
 * full-parameter step fits. Debian PyTorch runs the same shapes in the same run
 * (test/bench/torch_big.py) where it is installed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { describeBackend, selectBackend } from '../../dist/model/backend.js';
import { loadCheckpoint, saveCheckpoint } from '../../dist/model/checkpoint.js';
import { LoraAdapter, LORA_TARGETS } from '../../dist/model/lora.js';
import { generate } from '../../dist/model/sample.js';
import { parameterCount, Transformer, weightShapes, type ModelConfig } from '../../dist/model/transformer.js';
import { DEFAULT_RLVR } from '../../dist/stages/rlvr-config.js';
import { AdamW, DEFAULT_ADAMW } from '../../dist/train/optim.js';
import { PolicyLearner } from '../../dist/train/policy.js';
import { loadDefaultTokenizer } from '../../dist/model/default-tokenizer.js';

/** Qwen/Qwen2.5-0.5B's config.json, in this decoder's terms. */
const QWEN25_05B: ModelConfig = {
  vocabSize: 151936,
  hiddenSize: 896,
  intermediateSize: 4864,
  numLayers: 24,
  numHeads: 14,
  numKvHeads: 2,
  maxPositions: 32768,
  ropeTheta: 1e6,
  rmsNormEps: 1e-6,
  tieEmbeddings: true,
  attentionBias: true,
  storage: 'bfloat16',
};
const SAMPLE = { promptTokens: 14, newTokens: 16, batches: [1, 16] } as const;
const TRAIN = { batch: 1, seq: 128, r: 8 } as const;

const rss = (): number => Math.round(process.resourceUsage().maxRSS / 1024);
/** Each stage on stderr before it runs: a wasm heap abort kills the process, and this says where. */
const stage = (what: string, so: object): void => void process.stderr.write(`big: ${what} (peak RSS ${rss()} MB) so far ${JSON.stringify(so)}\n`);
const secondsOf = async (fn: () => unknown): Promise<number> => {
  const t0 = performance.now();
  await fn();
  return +((performance.now() - t0) / 1000).toFixed(2);
};

function torchBaseline(): Record<string, unknown> {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'torch_big.py');
  const spec = { config: QWEN25_05B, new_tokens: SAMPLE.newTokens, prompt_tokens: SAMPLE.promptTokens, batches: SAMPLE.batches, lora_r: TRAIN.r, train_batch: TRAIN.batch, train_seq: TRAIN.seq };
  const r = spawnSync('/usr/bin/python3', [script, JSON.stringify(spec)], { encoding: 'utf8', timeout: 900_000 });
  if (r.status !== 0) return { unavailable: `Debian PyTorch not usable here (${(r.stderr || r.error?.message || '').trim().split('\n').pop()}); install python3-torch and libopenblas0-pthread` };
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

export async function run(): Promise<unknown> {
  const backend = describeBackend(await selectBackend('auto'));
  const dir = await mkdtemp(join(tmpdir(), 'warmup-big-'));
  const out: Record<string, unknown> = { what: "Qwen2.5-0.5B's shape, random weights: BF16 checkpoint write and load, KV-cache sampling (14-token prompt, 16 new tokens, T = 1), one LoRA SFT step (B=1, T=128, r 8 on every linear layer) and one LoRA GRPO update (4 rollouts of 64 + 64 tokens)", backend, parameters: parameterCount(QWEN25_05B) };
  try {
    stage('init', out);
    let model = Transformer.init(QWEN25_05B, 1);
    // A tokenizer only for the folder's files: its vocabulary is far below the model's.
    const tokenizer = await loadDefaultTokenizer();
    stage('save', out);
    out.save_s = await secondsOf(() => saveCheckpoint(join(dir, 'm'), model, tokenizer));
    out.checkpoint_mb = Math.round((await stat(join(dir, 'm', 'model.safetensors'))).size / 2 ** 20);
    model.dispose();
    stage('load', out);
    out.load_s = await secondsOf(async () => {
      model = (await loadCheckpoint(join(dir, 'm'))).model;
    });
    out.rss_after_load_mb = rss();
    const never = { vocabSize: QWEN25_05B.vocabSize, eos: -1, pad: 0, bos: 0, special: {}, encode: () => [], decode: () => '' } as unknown as Parameters<typeof generate>[1];
    const prompt = Array.from({ length: SAMPLE.promptTokens }, (_, i) => (i * 7919 + 5) % QWEN25_05B.vocabSize);
    const sample: Record<string, number> = {};
    for (const batch of SAMPLE.batches) {
      stage(`sample batch ${batch}`, out);
      const t0 = performance.now();
      const gens = generate(model, never, Array.from({ length: batch }, () => prompt), { maxNewTokens: SAMPLE.newTokens, temperature: 1, seed: 1 });
      sample[`batch${batch}`] = +(gens.reduce((n, g) => n + g.tokens.length, 0) / ((performance.now() - t0) / 1000)).toFixed(2);
    }
    out.sample_tokens_per_s = sample;

    model.adapter = LoraAdapter.init({ r: TRAIN.r, alpha: 16, targets: LORA_TARGETS }, weightShapes(QWEN25_05B), join(dir, 'm'), 1);
    out.lora_trainable_params = model.variables().reduce((n, v) => n + v.size, 0);
    const opt = new AdamW(DEFAULT_ADAMW, model.trainable());
    const ids = tf.randomUniform<tf.Rank.R2>([TRAIN.batch, TRAIN.seq + 1], 0, QWEN25_05B.vocabSize, 'int32');
    const x: tf.Tensor2D = ids.slice([0, 0], [TRAIN.batch, TRAIN.seq]);
    const y: tf.Tensor2D = ids.slice([0, 1], [TRAIN.batch, TRAIN.seq]);
    const mask = tf.onesLike<tf.Tensor2D>(x);
    const step = (): void => {
      const { value, grads } = tf.variableGrads(() => model.loss({ ids: x, targets: y, lossMask: mask }), model.variables());
      opt.apply(grads, 1e-4);
      value.dataSync();
      tf.dispose([value, ...Object.values(grads)]);
    };
    stage('LoRA SFT step', out);
    step();
    const sftS = await secondsOf(() => step());
    out.lora_sft_step = { seconds: sftS, tokens_per_s: +((TRAIN.batch * TRAIN.seq) / sftS).toFixed(1), peak_rss_mb: rss() };
    tf.dispose([ids, x, y, mask]);
    opt.dispose();

    stage('LoRA GRPO update', out);
    const learner = new PolicyLearner(model, DEFAULT_RLVR, null, 0); // micro-batches fitted to the logits: 1 row here (fitMicroBatch)
    const rows = Array.from({ length: 4 }, (_, i) => ({
      promptIds: Array.from({ length: 64 }, (_, j) => (j * 31 + 7) % 1000),
      completionIds: Array.from({ length: 64 }, (_, j) => (j * 17 + i) % 1000),
      oldLogprobs: Array.from({ length: 64 }, () => -12),
      advantage: i % 2 === 0 ? 1 : -1,
    }));
    learner.update(rows, 1e-6);
    const grpoS = await secondsOf(() => learner.update(rows, 1e-6));
    out.lora_grpo_update = { rows: rows.length, seconds: grpoS, tokens_per_s: +((rows.length * 128) / grpoS).toFixed(1), peak_rss_mb: rss() };
    learner.dispose();
    // Full fine-tuning holds the float32 weights, their gradients and AdamW's two moments.
    const fullGb = (4 * 4 * parameterCount(QWEN25_05B)) / 1e9;
    out.full_parameter_step = { skipped: `weights + gradients + AdamW moments in float32 take ${fullGb.toFixed(1)} GB, past the wasm backend's 4 GiB heap; on the pure-JS cpu backend it fits in memory but a 128-token step is a few hundred GFLOP at ~1 GFLOP/s (minutes), so LoRA is the way to train this size here` };
    model.dispose();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  out.torch = torchBaseline();
  return out;
}
