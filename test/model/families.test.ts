import * as tf from '@tensorflow/tfjs';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ChatTemplate } from '../../src/model/chat-template.js';
import { CheckpointError, fromHFConfig, loadCheckpoint, readChatTemplate, saveCheckpoint, toHFConfig } from '../../src/model/checkpoint.js';
import { parseRopeScaling, ropeInvFreq } from '../../src/model/rope.js';
import { decodeSafetensors, encodeSafetensors, readSafetensorsFile, type NamedTensor } from '../../src/model/safetensors.js';
import { ByteBpeTokenizer, trainByteBpe } from '../../src/model/tokenizer.js';
import { presetConfig, Transformer, weightShapes, type ModelConfig } from '../../src/model/transformer.js';
import { ROOT, tempDir } from '../helpers.js';

let tokenizer: ByteBpeTokenizer;
beforeAll(async () => {
  await tf.setBackend('cpu');
  tokenizer = trainByteBpe(['Zoey is a knight and Oliver is a knave.', 'Who is a knight?'], 300);
});

const config = (over: Partial<ModelConfig> = {}): ModelConfig =>
  presetConfig('tiny', tokenizer.vocabSize, { hiddenSize: 32, intermediateSize: 64, numLayers: 2, numHeads: 4, numKvHeads: 2, maxPositions: 128, ...over });

/** Max |logit difference| of two models on one prompt. */
function logitGap(a: Transformer, b: Transformer): number {
  return tf.tidy(() => {
    const ids = tf.tensor2d([tokenizer.encode('Zoey is a knight and Oliver is a knave.')], undefined, 'int32');
    return tf.max(tf.abs(tf.sub(a.forward({ ids }).logits, b.forward({ ids }).logits))).dataSync()[0] as number;
  });
}

const hf = (over: Record<string, unknown>): Record<string, unknown> => ({ ...toHFConfig(config()), ...over });

describe('model families in config.json', () => {
  it('writes standard keys only: Qwen2 with q/k/v biases, Llama without', () => {
    const qwen = toHFConfig(config());
    expect(qwen).toMatchObject({ model_type: 'qwen2', architectures: ['Qwen2ForCausalLM'], rope_scaling: null });
    expect(qwen).not.toHaveProperty('attention_bias');
    const llama = toHFConfig(config({ attentionBias: false }));
    expect(llama).toMatchObject({ model_type: 'llama', architectures: ['LlamaForCausalLM'], attention_bias: false, mlp_bias: false });
    expect(fromHFConfig(llama)).toMatchObject({ family: 'llama', attentionBias: false });
    expect(fromHFConfig(qwen)).toMatchObject({ family: 'qwen2', attentionBias: true });
  });

  it('round-trips a Llama checkpoint with identical logits, and keeps a Mistral one Mistral', async () => {
    const dir = await tempDir();
    for (const family of ['llama', 'mistral'] as const) {
      const model = Transformer.init(config({ attentionBias: false, family }), 3);
      await saveCheckpoint(join(dir, family), model, tokenizer);
      const saved = JSON.parse(await readFile(join(dir, family, 'config.json'), 'utf8')) as Record<string, unknown>;
      expect(saved.model_type).toBe(family);
      const loaded = await loadCheckpoint(join(dir, family));
      expect(loaded.model.config.family).toBe(family);
      expect(logitGap(model, loaded.model)).toBe(0);
      model.dispose();
      loaded.model.dispose();
    }
  });

  it('caps positions at a sliding window in force, and only then', () => {
    expect(fromHFConfig(hf({ model_type: 'mistral', sliding_window: 64, attention_bias: false })).maxPositions).toBe(64);
    expect(fromHFConfig(hf({ model_type: 'mistral', sliding_window: null, attention_bias: false })).maxPositions).toBe(128);
    // Qwen2 configs carry a sliding_window that is off unless use_sliding_window is true.
    expect(fromHFConfig(hf({ sliding_window: 32 })).maxPositions).toBe(128);
    expect(fromHFConfig(hf({ sliding_window: 32, use_sliding_window: true })).maxPositions).toBe(32);
  });

  it('refuses what it would compute differently, naming the key', () => {
    const refused: [Record<string, unknown>, RegExp][] = [
      [{ model_type: 'phi3' }, /model_type "phi3" is not supported \(qwen2, qwen3, llama, mistral\): Phi-3 fuses qkv/],
      [{ model_type: 'gpt2' }, /model_type "gpt2" is not supported \(qwen2, qwen3, llama, mistral\)$/],
      [{ model_type: 'llama', attention_bias: true }, /attention_bias true: llama puts a bias on o_proj too/],
      [{ model_type: 'qwen3', attention_bias: true }, /attention_bias true: qwen3 puts a bias on o_proj too/],
      [{ rope_parameters: { rope_type: 'yarn', rope_theta: 1e6, factor: 4 } }, /rope_scaling type "yarn" is not supported/],
      [{ mlp_bias: true }, /mlp_bias true: MLP biases are not implemented/],
      [{ hidden_act: 'gelu' }, /hidden_act "gelu": only silu/],
      [{ head_dim: 16 }, /head_dim 16: this decoder needs hidden_size \/ num_attention_heads = 8/],
      [{ rope_scaling: { rope_type: 'yarn', factor: 4 } }, /rope_scaling type "yarn" is not supported \(default, linear, llama3\)/],
      [{ rope_scaling: { rope_type: 'linear' } }, /rope_scaling\.factor must be a positive number/],
    ];
    for (const [over, message] of refused) {
      expect(() => fromHFConfig(hf(over), 'm/config.json'), JSON.stringify(over)).toThrow(CheckpointError);
      expect(() => fromHFConfig(hf(over), 'm/config.json')).toThrow(message);
    }
    expect(fromHFConfig(hf({ head_dim: 8, rope_scaling: { type: 'default' } })).ropeScaling).toBeUndefined();
  });

  it('reads Qwen3 (a head size of its own, q/k norms) and the rope_parameters form of newer configs', () => {
    const q3 = fromHFConfig(hf({ model_type: 'qwen3', head_dim: 16, attention_bias: false, rope_theta: undefined, rope_parameters: { rope_type: 'default', rope_theta: 1e6 } }));
    expect(q3).toMatchObject({ family: 'qwen3', headDim: 16, qkNorm: true, attentionBias: false, ropeTheta: 1e6 });
    expect(q3.ropeScaling).toBeUndefined();
    expect(weightShapes(q3).get('model.layers.0.self_attn.q_norm.weight')).toEqual([16]);
    expect(weightShapes(q3).get('model.layers.0.self_attn.q_proj.weight')).toEqual([64, 32]);
    expect(weightShapes(q3).get('model.layers.0.self_attn.o_proj.weight')).toEqual([32, 64]);
    expect(toHFConfig(q3)).toMatchObject({ model_type: 'qwen3', architectures: ['Qwen3ForCausalLM'], head_dim: 16, attention_bias: false });
    // Qwen3 with head_dim = hidden / heads needs no headDim of its own.
    expect(fromHFConfig(hf({ model_type: 'qwen3', attention_bias: false })).headDim).toBeUndefined();
    const llama = fromHFConfig(hf({ model_type: 'llama', attention_bias: false, rope_theta: undefined, rope_parameters: { rope_type: 'llama3', rope_theta: 5e5, factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 64 } }));
    expect(llama).toMatchObject({ ropeTheta: 5e5, ropeScaling: { type: 'llama3', factor: 8 } });
  });

  it('trains a Qwen3: gradients reach the q and k norms', () => {
    const model = Transformer.init(config({ attentionBias: false, qkNorm: true, headDim: 16, family: 'qwen3' }), 5);
    const ids = tf.tensor2d([tokenizer.encode('Zoey is a knight and Oliver is a knave.')], undefined, 'int32');
    const norms = ['q_norm', 'k_norm'].map((n) => model.weights.get(`model.layers.1.self_attn.${n}.weight`) as tf.Variable);
    const { grads, value } = tf.variableGrads(() => model.loss({ ids, targets: ids, lossMask: tf.onesLike(ids) }), norms);
    expect(Number.isFinite(value.dataSync()[0])).toBe(true);
    for (const v of norms) {
      expect(grads[v.name]?.shape).toEqual([16]);
      expect(tf.max(tf.abs(grads[v.name] as tf.Tensor)).dataSync()[0]).toBeGreaterThan(0);
    }
    tf.dispose([ids, value, ...Object.values(grads)]);
    model.dispose();
  });

  it('writes bfloat16 weights for a bfloat16 model, with float32 copies beside the optimizer state for exact resume', async () => {
    const dir = await tempDir();
    const model = Transformer.init(config({ storage: 'bfloat16' }), 6);
    const slot = tf.keep(tf.onesLike(model.weights.get('model.norm.weight') as tf.Variable));
    await saveCheckpoint(join(dir, 'train'), model, tokenizer, { optimizer: new Map([['m/model.norm.weight', slot]]) });
    await saveCheckpoint(join(dir, 'final'), model, tokenizer);
    const f32 = Transformer.init(config(), 6);
    await saveCheckpoint(join(dir, 'f32'), f32, tokenizer);
    const size = async (d: string) => (await stat(join(dir, d, 'model.safetensors'))).size;
    expect(await size('final')).toBeLessThan(0.55 * (await size('f32')));
    expect(JSON.parse(await readFile(join(dir, 'final', 'config.json'), 'utf8'))).toMatchObject({ torch_dtype: 'bfloat16' });
    const resumed = await loadCheckpoint(join(dir, 'train'));
    expect(resumed.model.config.storage).toBe('bfloat16');
    expect(logitGap(model, resumed.model)).toBe(0); // the float32 copies, not the rounded file
    expect([...(resumed.optimizer?.keys() ?? [])]).toEqual(['m/model.norm.weight']);
    const rounded = await loadCheckpoint(join(dir, 'final'));
    const gap = logitGap(model, rounded.model);
    expect(gap).toBeGreaterThan(0);
    expect(gap).toBeLessThan(0.05);
    for (const m of [model, f32, resumed.model, rounded.model]) m.dispose();
    slot.dispose();
  });

  it('reads tying from the weights when tie_word_embeddings is absent (Hugging Face defaults it to false)', async () => {
    const dir = await tempDir();
    const model = Transformer.init(config({ tieEmbeddings: false }), 4);
    await saveCheckpoint(dir, model, tokenizer);
    const path = join(dir, 'config.json');
    const { tie_word_embeddings: _, ...rest } = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
    await writeFile(path, JSON.stringify(rest));
    const loaded = await loadCheckpoint(dir);
    expect(loaded.model.config.tieEmbeddings).toBe(false);
    expect(logitGap(model, loaded.model)).toBe(0);
    model.dispose();
    loaded.model.dispose();
  });
});

describe('rope scaling', () => {
  it('linear divides every frequency by the factor, and a scaled model differs from an unscaled one', () => {
    const base = ropeInvFreq(10000, 8);
    expect(base[0]).toBe(1);
    expect(ropeInvFreq(10000, 8, { type: 'linear', factor: 4 })).toEqual(base.map((f) => f / 4));
    const plain = Transformer.init(config(), 5);
    const scaled = new Transformer(config({ ropeScaling: { type: 'linear', factor: 4 } }), plain.weights);
    expect(logitGap(plain, scaled)).toBeGreaterThan(1e-4);
    plain.dispose();
  });

  it('llama3 keeps high frequencies, divides low ones, and blends continuously between (Llama 3.1 settings)', () => {
    const s = parseRopeScaling({ rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 }, 'c');
    expect(s).toEqual({ type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192 });
    const base = ropeInvFreq(500000, 128);
    const scaled = ropeInvFreq(500000, 128, s);
    const wavelen = base.map((f) => (2 * Math.PI) / f);
    let medium = 0;
    base.forEach((f, i) => {
      const w = wavelen[i] as number;
      const g = scaled[i] as number;
      if (w < 8192 / 4) expect(g).toBe(f);
      else if (w > 8192) expect(g).toBeCloseTo(f / 8, 15);
      else {
        medium++;
        expect(g).toBeLessThanOrEqual(f);
        expect(g).toBeGreaterThanOrEqual(f / 8);
      }
    });
    expect(medium).toBeGreaterThan(0);
    // The kept share falls steadily with the wavelength, from 1 (kept) to 1/8 (divided).
    const ratio = scaled.map((g, i) => g / (base[i] as number));
    ratio.slice(1).forEach((r, i) => expect(r).toBeLessThanOrEqual((ratio[i] as number) + 1e-12));
    expect(ratio[0]).toBe(1);
    expect(ratio.at(-1)).toBeCloseTo(1 / 8, 12);
  });

  it('round-trips through config.json', async () => {
    const dir = await tempDir();
    const ropeScaling = { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 64 } as const;
    const model = Transformer.init(config({ attentionBias: false, ropeScaling }), 6);
    await saveCheckpoint(dir, model, tokenizer);
    const loaded = await loadCheckpoint(dir);
    expect(loaded.model.config.ropeScaling).toEqual(ropeScaling);
    expect(logitGap(model, loaded.model)).toBe(0);
    model.dispose();
    loaded.model.dispose();
  });
});

describe('sharded checkpoints', () => {
  it('loads a checkpoint file over 2 GiB, reading only the tensors it needs (a sparse file)', async () => {
    const dir = await tempDir();
    const model = Transformer.init(config({ attentionBias: false }), 10);
    await saveCheckpoint(dir, model, tokenizer);
    const path = join(dir, 'model.safetensors');
    const { tensors } = decodeSafetensors(new Uint8Array(await readFile(path)));
    // An old Llama save's RoPE buffer, which the loader skips, made 2.25 GB of zeros on a
    // sparse file; every real tensor lies past the 2 GiB mark.
    const big = 2.25e9;
    const header: Record<string, unknown> = { 'model.layers.0.self_attn.rotary_emb.inv_freq': { dtype: 'F32', shape: [big / 4], data_offsets: [0, big] } };
    let offset = big;
    for (const [name, t] of tensors) {
      header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + 4 * t.data.length] };
      offset += 4 * t.data.length;
    }
    let json = JSON.stringify(header);
    json += ' '.repeat((8 - (json.length % 8)) % 8);
    const head = Buffer.alloc(8 + json.length);
    head.writeBigUInt64LE(BigInt(json.length), 0);
    head.write(json, 8, 'utf8');
    const { open } = await import('node:fs/promises');
    const file = await open(path, 'w');
    await file.write(head, 0, head.length, 0);
    let at = head.length + big;
    for (const t of tensors.values()) {
      await file.write(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), 0, t.data.byteLength, at);
      at += t.data.byteLength;
    }
    await file.close();
    expect((await stat(path)).size).toBeGreaterThan(2 ** 31);
    const loaded = await loadCheckpoint(dir);
    expect(logitGap(model, loaded.model)).toBe(0);
    model.dispose();
    loaded.model.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('loads shards through model.safetensors.index.json with identical logits, and names a shard that lacks its tensor', async () => {
    const dir = await tempDir();
    const model = Transformer.init(config({ attentionBias: false }), 9);
    await saveCheckpoint(dir, model, tokenizer);
    const whole = join(dir, 'model.safetensors');
    const bytes = new Uint8Array(await readFile(whole));
    const { tensors } = decodeSafetensors(bytes);
    expect((await readSafetensorsFile(whole)).tensors).toEqual(tensors);
    const names = [...tensors.keys()];
    const half = Math.ceil(names.length / 2);
    const shards = [names.slice(0, half), names.slice(half)];
    const weightMap: Record<string, string> = {};
    for (const [i, part] of shards.entries()) {
      const file = `model-0000${i + 1}-of-00002.safetensors`;
      await writeFile(join(dir, file), encodeSafetensors(new Map(part.map((n) => [n, tensors.get(n) as NamedTensor]))));
      for (const n of part) weightMap[n] = file;
    }
    await rm(whole);
    const index = join(dir, 'model.safetensors.index.json');
    await writeFile(index, JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }));
    const loaded = await loadCheckpoint(dir);
    expect(logitGap(model, loaded.model)).toBe(0);
    loaded.model.dispose();
    // A tensor mapped to the wrong shard, a shard that is gone, and no weights at all.
    const moved = names[0] as string;
    await writeFile(index, JSON.stringify({ weight_map: { ...weightMap, [moved]: 'model-00002-of-00002.safetensors' } }));
    await expect(loadCheckpoint(dir)).rejects.toThrow(`tensor '${moved}' is mapped to model-00002-of-00002.safetensors, which does not hold it`);
    await rm(join(dir, 'model-00002-of-00002.safetensors'));
    await writeFile(index, JSON.stringify({ weight_map: weightMap }));
    await expect(loadCheckpoint(dir)).rejects.toThrow(/model-00002-of-00002\.safetensors: cannot read/);
    await rm(index);
    await expect(loadCheckpoint(dir)).rejects.toThrow(/neither model\.safetensors nor model\.safetensors\.index\.json/);
    model.dispose();
  });

  it('reads a file tensor by tensor and reports truncation with the tensor\'s name', async () => {
    const dir = await tempDir();
    const t = new Map([['a', { shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) }], ['b', { shape: [4], data: new Float32Array([7, 8, 9, 10]) }]]);
    const bytes = encodeSafetensors(t);
    const path = join(dir, 'w.safetensors');
    await writeFile(path, bytes);
    expect((await readSafetensorsFile(path)).tensors).toEqual(t);
    await writeFile(path, bytes.subarray(0, bytes.length - 4));
    await expect(readSafetensorsFile(path)).rejects.toThrow(/tensor 'b' ends at byte \d+, past the end of the file \(\d+\): truncated/);
    await writeFile(path, bytes.subarray(0, 5));
    await expect(readSafetensorsFile(path)).rejects.toThrow(/too short to be safetensors \(5 bytes\)/);
  });
});

describe('checkpoint folder files', () => {
  it('writes tokenizer.json in standard keys, names the special tokens, and writes generation_config.json', async () => {
    const dir = await tempDir();
    const model = Transformer.init(config(), 10);
    await saveCheckpoint(dir, model, tokenizer);
    const read = async (f: string) => JSON.parse(await readFile(join(dir, f), 'utf8')) as Record<string, unknown>;
    const tok = await read('tokenizer.json');
    expect(tok).not.toHaveProperty('warmup');
    expect(Object.keys(tok).sort()).toEqual(['added_tokens', 'decoder', 'model', 'normalizer', 'padding', 'post_processor', 'pre_tokenizer', 'truncation', 'version']);
    expect(await read('tokenizer_config.json')).toMatchObject({ tokenizer_class: 'PreTrainedTokenizerFast', eos_token: '<|endoftext|>', model_max_length: 128, warmup_tokenizer: { tokenizer: 'byte-bpe' } });
    expect(await read('generation_config.json')).toEqual({ bos_token_id: tokenizer.bos, eos_token_id: tokenizer.eos, pad_token_id: tokenizer.pad });
    const loaded = await loadCheckpoint(dir);
    // The marker in tokenizer_config.json still selects the native tokenizer.
    expect(loaded.tokenizer).toBeInstanceOf(ByteBpeTokenizer);
    expect(loaded.tokenizer.encode('Zoey is a knight')).toEqual(tokenizer.encode('Zoey is a knight'));
    loaded.model.dispose();
    model.dispose();
  });

  it('keeps a chat template through save and load, from tokenizer_config.json or chat_template.jinja', async () => {
    const dir = await tempDir();
    const model = Transformer.init(config(), 12);
    const tok = trainByteBpe(['Who is a knight?'], 300);
    tok.chatTemplate = '{% for m in messages %}{{ m.content }}{% endfor %}';
    await saveCheckpoint(dir, model, tok);
    expect((await loadCheckpoint(dir)).tokenizer.chatTemplate).toBe(tok.chatTemplate);
    const path = join(dir, 'tokenizer_config.json');
    const { chat_template: _, ...rest } = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
    await writeFile(path, JSON.stringify({ ...rest, chat_template: [{ name: 'tool_use', template: 'T' }, { name: 'default', template: 'D' }] }));
    expect((await loadCheckpoint(dir)).tokenizer.chatTemplate).toBe('D');
    await writeFile(path, JSON.stringify({ ...rest, chat_template: [{ name: 'tool_use', template: 'T' }] }));
    await expect(loadCheckpoint(dir)).rejects.toThrow(/chat_template lists 1 templates but none named 'default'/);
    await writeFile(path, JSON.stringify(rest));
    await writeFile(join(dir, 'chat_template.jinja'), 'J');
    expect((await loadCheckpoint(dir)).tokenizer.chatTemplate).toBe('J');
    expect((await readChatTemplate(dir))?.render([{ role: 'user', content: 'x' }])).toBe('J');
    await rm(join(dir, 'chat_template.jinja'));
    expect(await readChatTemplate(dir)).toBeNull();
    expect(new ChatTemplate('{{ bos_token }}{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}', { bos_token: '<s>' }).render([{ role: 'user', content: 'hi' }])).toBe('<s><user>hi<assistant>');
    expect(() => new ChatTemplate('{% for %}')).toThrow(/chat template does not parse/);
    model.dispose();
  });

  it('still loads the shipped base, saved before these files existed, with its native tokenizer', async () => {
    const { model, tokenizer: tok } = await loadCheckpoint(join(ROOT, 'data', 'models', 'world-base-v1'));
    expect(tok).toBeInstanceOf(ByteBpeTokenizer);
    expect(model.config).toMatchObject({ family: 'qwen2', attentionBias: true, tieEmbeddings: true, vocabSize: 1500 });
    model.dispose();
  });
});
