import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/model/backend.js';
import { loadCheckpoint, saveCheckpoint } from '../../src/model/checkpoint.js';
import { LoraAdapter, loraConfigFromPeft } from '../../src/model/lora.js';
import type { ByteBpeTokenizer} from '../../src/model/tokenizer.js';
import { trainByteBpe } from '../../src/model/tokenizer.js';
import { presetConfig, Transformer, weightShapes } from '../../src/model/transformer.js';
import { SFTTrainer, tokenizeExample } from '../../src/train/sft.js';
import { tempDir } from '../helpers.js';

let tokenizer: ByteBpeTokenizer;
const examples = [
  { prompt: 'Ann says ', completion: 'Bob is a knave.' },
  { prompt: 'Bob says ', completion: 'Ann is a knight.' },
];
const newModel = (seed: number): Transformer =>
  Transformer.init(presetConfig('tiny', tokenizer.vocabSize, { hiddenSize: 32, intermediateSize: 64, numLayers: 2, numHeads: 4, numKvHeads: 2, maxPositions: 64 }), seed);
const logits = (m: Transformer): Float32Array => tf.tidy(() => m.forward({ ids: tf.tensor2d([tokenizer.encode('Ann says Bob is')], undefined, 'int32') }).logits.dataSync() as Float32Array);
const gap = (a: Float32Array, b: Float32Array): number => a.reduce((g, x, i) => Math.max(g, Math.abs(x - (b[i] as number))), 0);

beforeAll(async () => {
  await selectBackend('wasm');
  tokenizer = trainByteBpe(examples.map((e) => e.prompt + e.completion), 280);
});

describe('LoRA adapters (PEFT layout)', () => {
  it('trains only the adapter, saves it alone in PEFT layout, loads it onto its base, and merges into the weights', async () => {
    const dir = await tempDir();
    const base = join(dir, 'base');
    const model = newModel(3);
    // A random tiny net's tied embeddings (std 0.02) keep every logit near 0, which no
    // adapter can change; embeddings of a trained scale give the adapter room to learn.
    const embed = model.weights.get('model.embed_tokens.weight') as tf.Variable;
    tf.tidy(() => embed.assign(tf.mul(embed, 40)));
    await saveCheckpoint(base, model, tokenizer);
    const before = logits(model);
    const baseWeights = new Map([...model.weights].map(([k, v]) => [k, v.dataSync().slice()]));
    model.adapter = LoraAdapter.init({ r: 4, alpha: 8, targets: ['q_proj', 'v_proj', 'down_proj'] }, weightShapes(model.config), base, 1);
    // B starts at zero: a fresh adapter changes nothing.
    expect(gap(logits(model), before)).toBe(0);
    expect([...model.trainable().keys()]).toContain('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight');
    expect(model.variables()).toHaveLength(2 * 3 * 2);

    const trainer = new SFTTrainer(model, tokenizer, { epochs: 30, lr: 5e-2, warmupSteps: 1, batchSize: 2, maxLength: 32, weightDecay: 0, schedule: 'constant' });
    const losses: number[] = [];
    for await (const s of trainer.train(examples.map((e) => tokenizeExample(tokenizer, e, 32)))) losses.push(s.loss);
    expect(losses.at(-1) as number).toBeLessThan(0.5 * (losses[0] as number));
    for (const [k, w] of model.weights) expect(w.dataSync(), k).toEqual(baseWeights.get(k));
    const adapted = logits(model);
    expect(gap(adapted, before)).toBeGreaterThan(1e-3);

    const out = join(dir, 'adapter');
    await trainer.save(out);
    expect(existsSync(join(out, 'model.safetensors'))).toBe(false);
    expect(JSON.parse(await readFile(join(out, 'adapter_config.json'), 'utf8'))).toMatchObject({ peft_type: 'LORA', r: 4, lora_alpha: 8, target_modules: ['q_proj', 'v_proj', 'down_proj'], base_model_name_or_path: base });
    const loaded = await loadCheckpoint(out);
    expect(loaded.model.adapter?.config).toEqual({ r: 4, alpha: 8, targets: ['q_proj', 'v_proj', 'down_proj'] });
    expect(gap(logits(loaded.model), adapted)).toBe(0);
    // The optimizer state is the adapter's: exact resume continues from it.
    expect([...(loaded.optimizer?.keys() ?? [])].every((k) => k.includes('lora_'))).toBe(true);
    const resumed = new SFTTrainer(loaded.model, loaded.tokenizer, trainer.config);
    resumed.resume(loaded.optimizer, loaded.trainerState);

    loaded.model.mergeAdapter();
    expect(loaded.model.adapter).toBeNull();
    expect(gap(logits(loaded.model), adapted)).toBeLessThan(1e-4);
    const merged = join(dir, 'merged');
    await saveCheckpoint(merged, loaded.model, loaded.tokenizer);
    expect(existsSync(join(merged, 'model.safetensors'))).toBe(true);
    const again = await loadCheckpoint(merged);
    expect(gap(logits(again.model), adapted)).toBeLessThan(1e-4);
    for (const m of [model, loaded.model, again.model]) m.dispose();
    trainer.dispose();
    resumed.dispose();
  }, 60_000);

  it('resumes an adapter run exactly: stopped half way, saved, loaded and resumed, it ends where the uninterrupted run ends', async () => {
    const dir = await tempDir();
    const base = join(dir, 'base');
    const seeded = newModel(5);
    await saveCheckpoint(base, seeded, tokenizer);
    seeded.dispose();
    const config = { epochs: 12, lr: 2e-2, warmupSteps: 2, batchSize: 1, maxLength: 32, schedule: 'cosine' as const };
    const data = examples.map((e) => tokenizeExample(tokenizer, e, 32));
    const adapterOf = (m: Transformer): Map<string, Float32Array> => new Map([...m.trainable()].map(([k, v]) => [k, v.dataSync() as Float32Array]));
    const start = async (): Promise<SFTTrainer> => {
      const { model } = await loadCheckpoint(base);
      model.adapter = LoraAdapter.init({ r: 2, alpha: 4, targets: ['q_proj', 'o_proj'] }, weightShapes(model.config), base, 7);
      return new SFTTrainer(model, tokenizer, config);
    };
    const whole = await start();
    for await (const _ of whole.train(data)) void _;
    expect(whole.optimizer.step).toBe(12);

    const half = await start();
    for await (const s of half.train(data)) if (s.step === 5) break;
    const out = join(dir, 'half');
    await half.save(out);
    const loaded = await loadCheckpoint(out);
    const resumed = new SFTTrainer(loaded.model, loaded.tokenizer, config);
    resumed.resume(loaded.optimizer, loaded.trainerState);
    for await (const _ of resumed.train(data)) void _;
    expect(resumed.optimizer.step).toBe(12);
    const want = adapterOf(whole.model);
    for (const [k, v] of adapterOf(resumed.model)) expect(v, k).toEqual(want.get(k));
    for (const t of [whole, half, resumed]) {
      t.model.dispose();
      t.dispose();
    }
  }, 60_000);

  it('refuses adapter configs it would compute differently, and names a missing base or tensor', async () => {
    const ok = { peft_type: 'LORA', r: 8, lora_alpha: 16, target_modules: ['q_proj'] };
    expect(loraConfigFromPeft(ok, 'a')).toEqual({ r: 8, alpha: 16, targets: ['q_proj'] });
    expect(loraConfigFromPeft({ ...ok, target_modules: 'all-linear' }, 'a').targets).toHaveLength(7);
    for (const [over, message] of [
      [{ use_dora: true }, /use_dora true: DoRA is not implemented/],
      [{ use_rslora: true }, /use_rslora true/],
      [{ target_modules: ['qkv'] }, /unknown target 'qkv'/],
      [{ peft_type: 'IA3' }, /only LORA/],
      [{ r: 0 }, /r must be a positive integer/],
    ] as const) {
      expect(() => loraConfigFromPeft({ ...ok, ...over }, 'a/adapter_config.json')).toThrow(message);
    }
    const dir = await tempDir();
    await writeFile(join(dir, 'adapter_config.json'), JSON.stringify({ ...ok, base_model_name_or_path: 'Qwen/Qwen2.5-0.5B' }));
    await expect(loadCheckpoint(dir)).rejects.toThrow(/the base checkpoint "Qwen\/Qwen2\.5-0\.5B" is not a folder here/);
    const base = join(dir, 'base');
    const model = newModel(4);
    await saveCheckpoint(base, model, tokenizer);
    model.dispose();
    await writeFile(join(dir, 'adapter_config.json'), JSON.stringify({ ...ok, base_model_name_or_path: base }));
    await expect(loadCheckpoint(dir)).rejects.toThrow(/adapter_model\.safetensors/);
  });
});
