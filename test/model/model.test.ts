import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/model/backend.js';
import { CheckpointError, loadCheckpoint, saveCheckpoint, toHFConfig } from '../../src/model/checkpoint.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/model/safetensors.js';
import { generate } from '../../src/model/sample.js';
import { ByteBpeTokenizer, HFTokenizer, trainByteBpe, type Tokenizer } from '../../src/model/tokenizer.js';
import { ATTENTION_BLOCK, attentionBlocks, disposeCache, parameterCount, presetConfig, Transformer, type ModelConfig } from '../../src/model/transformer.js';
import { collectExamples, SFTTrainer, tokenizeExample } from '../../src/train/sft.js';
import { generatePuzzles } from '../../src/kk/generator.js';
import { maxAbsDiff, tempDir } from '../helpers.js';

const corpus = [...generatePuzzles({ people: [3, 4], count: 200, seed: 1 })].flatMap((p) => [p.quiz, `<think>ok</think><answer>${p.solutionTextFormat}</answer>`]);
let tokenizer: ByteBpeTokenizer;
beforeAll(() => {
  tokenizer = trainByteBpe(corpus, 400);
});

const smallConfig = (vocab: number, over: Partial<ModelConfig> = {}): ModelConfig => presetConfig('tiny', vocab, { hiddenSize: 32, intermediateSize: 64, numLayers: 2, numHeads: 4, numKvHeads: 2, maxPositions: 128, ...over });

describe('tokenizer', () => {
  it('round-trips arbitrary Unicode exactly (property)', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => tokenizer.decode(tokenizer.encode(s)) === s), { numRuns: 500, seed: 3 });
  });

  it('matches @huggingface/tokenizers on its own tokenizer.json', () => {
    const hf = new HFTokenizer(tokenizer.toJSON());
    for (const text of [...corpus.slice(0, 20), 'héllo 世界 🤖 <think>x</think> <|im_start|>user\n', '  leading and   spaces\t\n']) {
      expect(hf.encode(text)).toEqual(tokenizer.encode(text));
      expect(hf.decode(hf.encode(text))).toBe(text);
    }
    expect(ByteBpeTokenizer.fromJSON(JSON.parse(JSON.stringify(tokenizer.toJSON()))).encode(corpus[0] as string)).toEqual(tokenizer.encode(corpus[0] as string));
  });

  it('keeps K&K text short and the tags whole', () => {
    const quiz = corpus[0] as string;
    expect(tokenizer.encode(quiz).length).toBeLessThan(quiz.length / 2.5);
    expect(tokenizer.encode('<think>')).toEqual([tokenizer.special['<think>']]);
    expect(tokenizer.decode([tokenizer.eos, ...tokenizer.encode('x')], { skipSpecial: true })).toBe('x');
  });
});

describe('backend selection', () => {
  it('falls back cleanly from the missing node backends and says why', async () => {
    const c = await selectBackend('auto');
    expect(['node-gpu', 'node', 'wasm']).toContain(c.name);
    if (c.name === 'wasm') expect(c.reason).toMatch(/node-gpu not installed; node not installed/);
    await expect(selectBackend('nope' as 'cpu')).rejects.toThrow(/unknown backend 'nope'/);
  });
});

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`transformer on ${backend}`, () => {
    beforeAll(async () => {
      await selectBackend(backend);
    });

    it('has the preset sizes it claims', () => {
      expect(parameterCount(presetConfig('tiny', 1024))).toBeGreaterThan(0.8e6);
      expect(parameterCount(presetConfig('tiny', 1024))).toBeLessThan(1.2e6);
      expect(parameterCount(presetConfig('small', 1024))).toBeGreaterThan(9e6);
      expect(parameterCount(presetConfig('base', 1024))).toBeGreaterThan(45e6);
    });

    it('gives the same logits with and without the KV cache, and leaks no tensors', () => {
      const model = Transformer.init(smallConfig(tokenizer.vocabSize), 2);
      const before = tf.memory().numTensors;
      const seq = tokenizer.encode('Zoey says, "Ethan is a knave."').slice(0, 12);
      const ids = tf.tensor2d([seq], [1, seq.length], 'int32');
      const full = model.forward({ ids });
      const head = tf.tensor2d([seq.slice(0, 5)], [1, 5], 'int32');
      const first = model.forward({ ids: head }, true);
      first.logits.dispose();
      let cache = first.cache;
      const steps: tf.Tensor[] = [];
      for (let t = 5; t < seq.length; t++) {
        const one = tf.tensor2d([[seq[t] as number]], [1, 1], 'int32');
        const r = model.forward({ ids: one, cache: cache! });
        disposeCache(cache);
        cache = r.cache;
        steps.push(r.logits);
        one.dispose();
      }
      const incremental = tf.concat(steps, 1);
      const tail = full.logits.slice([0, 5, 0], [1, seq.length - 5, model.config.vocabSize]);
      expect(tf.tidy(() => tf.max(tf.abs(tf.sub(tail, incremental))).dataSync()[0])).toBeLessThan(1e-4);
      [ids, head, full.logits, incremental, tail, ...steps].forEach((t) => t.dispose());
      disposeCache(cache);
      expect(tf.memory().numTensors).toBe(before + 0);
      const n1 = tf.memory().numTensors;
      const x = tf.tensor2d([seq], [1, seq.length], 'int32');
      const y = tf.tensor2d([seq.slice(1).concat([0])], [1, seq.length], 'int32');
      const m = tf.ones([1, seq.length], 'int32') as tf.Tensor2D;
      const { value, grads } = tf.variableGrads(() => model.loss({ ids: x, targets: y, lossMask: m }));
      [value, x, y, m, ...Object.values(grads)].forEach((t) => t.dispose());
      expect(tf.memory().numTensors).toBe(n1);
      model.dispose();
    });

    it('attends in causal blocks on long rows with the logits and gradients of one block', () => {
      expect(attentionBlocks(100)).toEqual([[0, 100]]);
      for (const T of [256, 300, 449, 640, 1001]) {
        const blocks = attentionBlocks(T);
        expect(blocks.length, `T=${T}`).toBe(Math.round(T / ATTENTION_BLOCK));
        expect(blocks[0]?.[0]).toBe(0);
        expect(blocks.at(-1)?.[1]).toBe(T);
        blocks.forEach(([from, to], i) => {
          if (i > 0) expect(from).toBe(blocks[i - 1]?.[1]);
          if (i < blocks.length - 1) expect((to - from) % 4).toBe(0);
        });
      }
      const config = presetConfig('tiny', 67, { hiddenSize: 32, intermediateSize: 48, numLayers: 2, numHeads: 4, numKvHeads: 2 });
      const model = Transformer.init(config, 5);
      const T = 13;
      const ids = tf.tensor2d(Array.from({ length: 2 * T }, (_, i) => (i * 11) % 67), [2, T], 'int32');
      const targets = tf.tensor2d(Array.from({ length: 2 * T }, (_, i) => (i * 5 + 1) % 67), [2, T], 'int32');
      // Two packed sequences in the first row, padding at the end of the second.
      const segmentIds = tf.tensor2d([[0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1, -1]], [2, T], 'int32');
      const positions = tf.tensor2d([[0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 5, 6, 7], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0, 0]], [2, T], 'int32');
      const lossMask = tf.tensor2d([[1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0]], [2, T], 'int32');
      const run = (attentionBlock: number) => {
        const { logits } = model.forward({ ids, segmentIds, positions, attentionBlock });
        const { value, grads } = tf.variableGrads(() => model.loss({ ids, targets, lossMask, segmentIds, positions, attentionBlock }));
        const out = { logits: logits.dataSync() as Float32Array, loss: value.dataSync()[0] as number, grads: model.variables().map((v) => (grads[v.name] as tf.Tensor).dataSync() as Float32Array) };
        tf.dispose([logits, value, ...Object.values(grads)]);
        return out;
      };
      const whole = run(Infinity);
      const blocked = run(2); // blocks of 4, 4, 4 and 1 rows
      expect(attentionBlocks(T, 2)).toEqual([[0, 4], [4, 8], [8, 12], [12, 13]]);
      expect(maxAbsDiff(whole.logits, blocked.logits)).toBeLessThan(1e-5);
      expect(Math.abs(whole.loss - blocked.loss)).toBeLessThan(1e-6);
      whole.grads.forEach((g, i) => expect(maxAbsDiff(g, blocked.grads[i] as Float32Array)).toBeLessThan(1e-5));
      tf.dispose([ids, targets, segmentIds, positions, lossMask]);
      model.dispose();
    });

    it('greedy generation with the cache equals greedy generation without it', () => {
      const model = Transformer.init(smallConfig(tokenizer.vocabSize), 3);
      const prompt = tokenizer.encode('So who is a knight');
      const [withCache] = generate(model, tokenizer, [prompt], { maxNewTokens: 12, temperature: 0 });
      const seq = [...prompt];
      for (let i = 0; i < 12; i++) {
        const logits = tf.tidy(() => model.forward({ ids: tf.tensor2d([seq], [1, seq.length], 'int32') }).logits.slice([0, seq.length - 1, 0], [1, 1, model.config.vocabSize]));
        const next = tf.argMax(logits.reshape([-1])).dataSync()[0] as number;
        logits.dispose();
        seq.push(next);
        if (next === tokenizer.eos) break;
      }
      expect(withCache?.tokens).toEqual(seq.slice(prompt.length));
      model.dispose();
    });

    it('samples reproducibly from a seed, batched with prompts of different lengths, with log-probs', () => {
      const model = Transformer.init(smallConfig(tokenizer.vocabSize), 4);
      const prompts = [tokenizer.encode('Ann says'), tokenizer.encode('A very special island is inhabited')];
      const a = generate(model, tokenizer, prompts, { maxNewTokens: 10, temperature: 1, topP: 0.9, topK: 50, seed: 7 });
      const b = generate(model, tokenizer, prompts, { maxNewTokens: 10, temperature: 1, topP: 0.9, topK: 50, seed: 7 });
      expect(a).toEqual(b);
      for (const g of a) {
        expect(g.logprobs).toHaveLength(g.tokens.length);
        expect(g.logprobs.every((l) => l <= 0 && Number.isFinite(l))).toBe(true);
        expect(['stop', 'length']).toContain(g.finishReason);
      }
      // Row 0 alone gives the same tokens as row 0 in the batch (padding is masked).
      const [alone] = generate(model, tokenizer, [prompts[0] as number[]], { maxNewTokens: 10, temperature: 0 });
      const [batched] = generate(model, tokenizer, prompts, { maxNewTokens: 10, temperature: 0 });
      expect(batched?.tokens).toEqual(alone?.tokens);
      model.dispose();
    });
  });
}

describe('gradients', () => {
  it('match finite differences on a tiny config (cpu)', async () => {
    await selectBackend('cpu');
    const config = smallConfig(64, { hiddenSize: 16, intermediateSize: 24, numLayers: 1, numHeads: 2, numKvHeads: 1 });
    const model = Transformer.init(config, 5);
    const x = tf.tensor2d([[1, 5, 9, 3, 7]], [1, 5], 'int32');
    const y = tf.tensor2d([[5, 9, 3, 7, 2]], [1, 5], 'int32');
    const m = tf.tensor2d([[0, 1, 1, 1, 1]], [1, 5], 'int32');
    const loss = (): number => tf.tidy(() => model.loss({ ids: x, targets: y, lossMask: m }).dataSync()[0] as number);
    const { grads, value } = tf.variableGrads(() => model.loss({ ids: x, targets: y, lossMask: m }));
    value.dispose();
    const eps = 1e-2;
    for (const name of ['model.layers.0.self_attn.q_proj.weight', 'model.layers.0.mlp.down_proj.weight', 'model.embed_tokens.weight', 'model.norm.weight', 'model.layers.0.self_attn.k_proj.bias']) {
      const v = model.weights.get(name) as tf.Variable;
      const g = (grads[v.name] as tf.Tensor).dataSync();
      const base = v.dataSync().slice();
      for (const i of [0, 3, Math.floor(base.length / 2)]) {
        const bump = (d: number): number => {
          const w = base.slice();
          w[i] = (w[i] as number) + d;
          tf.tidy(() => v.assign(tf.tensor(w, v.shape)));
          return loss();
        };
        const numeric = (bump(eps) - bump(-eps)) / (2 * eps);
        tf.tidy(() => v.assign(tf.tensor(base, v.shape)));
        expect(Math.abs(numeric - (g[i] as number)), `${name}[${i}]: numeric ${numeric} vs analytic ${g[i]}`).toBeLessThan(2e-3 + 0.05 * Math.abs(numeric));
      }
    }
    Object.values(grads).forEach((t) => t.dispose());
    [x, y, m].forEach((t) => t.dispose());
    model.dispose();
  });
});

describe('SFT and checkpoints (wasm)', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  const examples = [
    { prompt: 'Q: Ann says "Bo is a knave". Bo says nothing.\nA:', completion: ' (1) Ann is a knight\n(2) Bo is a knave' },
    { prompt: 'Q: Cy says "I am a knight".\nA:', completion: ' (1) Cy is a knight' },
    { prompt: 'Q: Di says "Ed is a knight". Ed says "Di is a knave".\nA:', completion: ' (1) Di is a knave\n(2) Ed is a knave' },
  ];

  it('overfits a handful of examples to near-zero loss, on completion tokens only', async () => {
    const model = Transformer.init(smallConfig(tokenizer.vocabSize, { hiddenSize: 64, intermediateSize: 128 }), 6);
    const trainer = new SFTTrainer(model, tokenizer, { epochs: 150, lr: 1e-2, warmupSteps: 5, batchSize: 4, maxLength: 96, weightDecay: 0, schedule: 'constant' });
    // Training pairs can arrive as an async iterable (a live traces stage) as well as a file.
    const live = async function* () {
      for (const e of examples) yield await Promise.resolve(e);
    };
    const data = (await collectExamples(live())).map((e) => tokenizeExample(tokenizer, e, 96));
    let last = Infinity;
    let first = 0;
    for await (const s of trainer.train(data)) {
      if (s.step === 1) first = s.loss;
      last = s.loss;
    }
    expect(first).toBeGreaterThan(3);
    expect(last).toBeLessThan(0.05);
    const [g] = generate(model, tokenizer, [tokenizer.encode(examples[0]!.prompt)], { maxNewTokens: 20, temperature: 0 });
    expect(g?.text).toBe(examples[0]!.completion);
    expect(g?.finishReason).toBe('stop');
    trainer.dispose();
    model.dispose();
  });

  it('saves and loads identical logits, and a resumed run takes the identical next step', async () => {
    const dir = await tempDir();
    const data = examples.map((e) => tokenizeExample(tokenizer, e, 96));
    const config = { epochs: 4, lr: 3e-3, warmupSteps: 2, batchSize: 1, maxLength: 96, packing: false, seed: 9 };
    const model = Transformer.init(smallConfig(tokenizer.vocabSize), 7);
    const trainer = new SFTTrainer(model, tokenizer, config);
    const it1 = trainer.train(data);
    for (let i = 0; i < 3; i++) await it1.next();
    await trainer.save(join(dir, 'ckpt'));
    const loaded = await loadCheckpoint(join(dir, 'ckpt'));
    const ids = tf.tensor2d([tokenizer.encode('Ann says')], undefined, 'int32');
    const a = model.forward({ ids }).logits;
    const b = loaded.model.forward({ ids }).logits;
    expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBe(0);
    const resumed = new SFTTrainer(loaded.model, loaded.tokenizer, config);
    resumed.resume(loaded.optimizer, loaded.trainerState);
    const next1 = (await it1.next()).value as { step: number; loss: number };
    const next2 = (await resumed.train(data).next()).value as { step: number; loss: number };
    expect(next2.step).toBe(next1.step);
    expect(next2.loss).toBeCloseTo(next1.loss, 6);
    for (const [name, w] of model.weights) expect(tf.max(tf.abs(tf.sub(w, loaded.model.weights.get(name) as tf.Variable))).dataSync()[0], name).toBeLessThan(1e-6);
    [ids, a, b].forEach((t) => t.dispose());
    await it1.return(undefined);
    trainer.dispose();
    resumed.dispose();
    model.dispose();
    loaded.model.dispose();
  });

  it('lets timers and I/O run between steps: an abort fired by a timer stops training mid-run', async () => {
    const data = examples.map((e) => tokenizeExample(tokenizer, e, 96));
    const model = Transformer.init(smallConfig(tokenizer.vocabSize), 7);
    const trainer = new SFTTrainer(model, tokenizer, { epochs: 50, lr: 1e-3, batchSize: 1, maxLength: 96, packing: false });
    const ctrl = new AbortController();
    let immediate = false;
    setImmediate(() => (immediate = true));
    let steps = 0;
    let total = 0;
    await expect(
      (async () => {
        for await (const s of trainer.train(data, { signal: ctrl.signal })) {
          if (steps++ === 0) {
            expect(immediate).toBe(true);
            setTimeout(() => ctrl.abort(), 0);
          }
          total = s.totalSteps;
        }
      })(),
    ).rejects.toThrow(/abort/i);
    expect(steps).toBeGreaterThan(0);
    expect(steps).toBeLessThan(total);
    trainer.dispose();
    model.dispose();
  });

  it('names the tensor and the shapes of a mismatched checkpoint, and refuses a truncated one', async () => {
    const dir = await tempDir();
    const model = Transformer.init(smallConfig(tokenizer.vocabSize), 8);
    await saveCheckpoint(join(dir, 'c'), model, tokenizer);
    const cfg = JSON.parse(await readFile(join(dir, 'c', 'config.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(join(dir, 'c', 'config.json'), JSON.stringify({ ...cfg, intermediate_size: 72 }));
    await expect(loadCheckpoint(join(dir, 'c'))).rejects.toThrow(/tensor 'model\.layers\.0\.mlp\.gate_proj\.weight' has shape \[64, 32\], but config\.json implies \[72, 32\]/);
    await writeFile(join(dir, 'c', 'config.json'), JSON.stringify(cfg));
    const bytes = await readFile(join(dir, 'c', 'model.safetensors'));
    await writeFile(join(dir, 'c', 'model.safetensors'), bytes.subarray(0, bytes.length - 100));
    await expect(loadCheckpoint(join(dir, 'c'))).rejects.toThrow(CheckpointError);
    await expect(loadCheckpoint(join(dir, 'c'))).rejects.toThrow(/truncated/);
    model.dispose();
  });

  it('refuses a folder without tokenizer.json before reading a weight, holding no tensors', async () => {
    const dir = await tempDir();
    const model = Transformer.init(smallConfig(tokenizer.vocabSize), 9);
    await saveCheckpoint(join(dir, 'c'), model, tokenizer);
    model.dispose();
    await rm(join(dir, 'c', 'tokenizer.json'));
    const before = tf.memory().numTensors;
    await expect(loadCheckpoint(join(dir, 'c'))).rejects.toThrow(/tokenizer\.json/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('loads a Hugging Face Qwen2 folder (BF16 safetensors, HF config and tokenizer files)', async () => {
    const dir = join(await tempDir(), 'qwen2-tiny');
    await mkdir(dir);
    const config = smallConfig(tokenizer.vocabSize + 8, { tieEmbeddings: false });
    const ours = Transformer.init(config, 11);
    // BF16 the way PyTorch stores it: the top 16 bits of each float32.
    const bf16 = new Map<string, { dtype: string; shape: number[]; bytes: Uint8Array }>();
    for (const [name, w] of ours.weights) {
      const f = w.dataSync() as Float32Array;
      const u = new Uint32Array(f.buffer.slice(f.byteOffset, f.byteOffset + f.byteLength));
      const out = new Uint8Array(u.length * 2);
      u.forEach((bits, i) => new DataView(out.buffer).setUint16(2 * i, bits >>> 16, true));
      bf16.set(name, { dtype: 'BF16', shape: w.shape, bytes: out });
      tf.tidy(() => w.assign(tf.tensor(new Float32Array(new Uint32Array(u.map((x) => x & 0xffff0000)).buffer), w.shape)));
    }
    const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
    let off = 0;
    for (const [name, t] of bf16) {
      header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + t.bytes.length] };
      off += t.bytes.length;
    }
    const head = new TextEncoder().encode(JSON.stringify(header));
    const file = new Uint8Array(8 + head.length + off);
    new DataView(file.buffer).setBigUint64(0, BigInt(head.length), true);
    file.set(head, 8);
    let at = 8 + head.length;
    for (const t of bf16.values()) {
      file.set(t.bytes, at);
      at += t.bytes.length;
    }
    await writeFile(join(dir, 'model.safetensors'), file);
    const hfConfig = { ...toHFConfig(config), torch_dtype: 'bfloat16' } as Record<string, unknown>;
    delete hfConfig.attention_bias;
    await writeFile(join(dir, 'config.json'), JSON.stringify(hfConfig));
    const { warmup: _marker, ...hfTokenizer } = tokenizer.toJSON() as Record<string, unknown>;
    await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(hfTokenizer));
    await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify({ eos_token: '<|im_end|>', pad_token: '<|endoftext|>' }));
    const loaded = await loadCheckpoint(dir);
    expect(loaded.tokenizer).toBeInstanceOf(HFTokenizer);
    expect(loaded.tokenizer.eos).toBe(tokenizer.special['<|im_end|>']);
    const ids = tf.tensor2d([tokenizer.encode('Zoey is a knight')], undefined, 'int32');
    const a = ours.forward({ ids }).logits;
    const b = loaded.model.forward({ ids }).logits;
    expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBeLessThan(1e-5);
    [ids, a, b].forEach((t) => t.dispose());
    ours.dispose();
    loaded.model.dispose();
  });

  it('round-trips safetensors and reports a bad header', () => {
    const t = new Map([['a', { shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) }]]);
    expect(decodeSafetensors(encodeSafetensors(t, { x: 'y' }))).toEqual({ tensors: t, metadata: { x: 'y' } });
    const bad = new Uint8Array(16);
    new DataView(bad.buffer).setBigUint64(0, 1000n, true);
    expect(() => decodeSafetensors(bad, 'w.safetensors')).toThrow(/w\.safetensors: header length 1000 runs past the end/);
  });
});

export type { Tokenizer };
