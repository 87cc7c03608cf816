/**
 * Checkpoints: a folder in the Hugging Face layout — `config.json` (standard Qwen2,
 * Qwen3 or Llama keys), `model.safetensors`, `tokenizer.json` — plus, for exact resume,
 * `optimizer.safetensors` and `trainer_state.json`. A LoRA adapter's folder is PEFT's
 * (`adapter_config.json`, `adapter_model.safetensors`) and names its base. Folders are written to a temporary sibling and renamed into
 * place, so a crash never leaves a half-written checkpoint under the final name.
 *
 * The same loader reads Hugging Face Qwen2, Qwen3, Llama and Mistral checkpoints
 * (BF16/F16/F32 safetensors); test/fixtures/families holds golden logits for each.
 */
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { encodeSafetensors, openSafetensorsFile, readSafetensorsFile, SafetensorsError, type NamedTensor, type SafetensorsReader } from './safetensors.js';
import { specialText, tokenizerFromJSON, type Tokenizer } from './tokenizer.js';
import { ChatTemplate, chatTemplateOf } from './chat-template.js';
import { parseRopeScaling, ropeScalingToHF } from './rope.js';
import { LoraAdapter, loraConfigFromPeft, loraModules, peftName } from './lora.js';
import { checkConfig, headSizeOf, MODEL_FAMILIES, Transformer, weightShapes, type ModelConfig, type ModelFamily } from './transformer.js';

/** Thrown for a checkpoint that does not match what it claims; names the file and tensor. */
export class CheckpointError extends Error {}

const exists = (path: string): Promise<boolean> => stat(path).then(() => true, () => false);

/** A tensor read from a file as a trainable float32 variable. */
const variableOf = (t: NamedTensor): tf.Variable => tf.tidy(() => tf.variable(tf.tensor(t.data, [...t.shape], 'float32'), true));

/**
 * The Hugging Face config.json of a model, in standard keys only: a model with q/k norms
 * is written as Qwen3, one with q/k/v biases as Qwen2, one with neither as Llama (or
 * Mistral, when it was loaded as one).
 */
export function toHFConfig(c: ModelConfig, tokenizer?: Tokenizer): Record<string, unknown> {
  const family: ModelFamily = c.qkNorm ? 'qwen3' : c.attentionBias ? 'qwen2' : c.family === 'mistral' ? 'mistral' : 'llama';
  return {
    architectures: [ARCHITECTURES[family]],
    model_type: family,
    vocab_size: c.vocabSize,
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    num_hidden_layers: c.numLayers,
    num_attention_heads: c.numHeads,
    num_key_value_heads: c.numKvHeads,
    ...(family === 'qwen3' ? { head_dim: headSizeOf(c) } : {}),
    max_position_embeddings: c.maxPositions,
    rope_theta: c.ropeTheta,
    rope_scaling: c.ropeScaling ? ropeScalingToHF(c.ropeScaling) : null,
    rms_norm_eps: c.rmsNormEps,
    tie_word_embeddings: c.tieEmbeddings,
    hidden_act: 'silu',
    torch_dtype: c.storage ?? 'float32',
    ...(tokenizer ? { bos_token_id: tokenizer.bos, eos_token_id: tokenizer.eos } : {}),
    ...(family === 'qwen2' ? {} : family === 'qwen3' ? { attention_bias: false } : { attention_bias: false, mlp_bias: false }),
    ...(family === 'mistral' ? { sliding_window: null } : family === 'qwen3' ? { use_sliding_window: false, sliding_window: null } : {}),
  };
}

const ARCHITECTURES: Readonly<Record<ModelFamily, string>> = { qwen2: 'Qwen2ForCausalLM', qwen3: 'Qwen3ForCausalLM', llama: 'LlamaForCausalLM', mistral: 'MistralForCausalLM' };

/** Why a model type is refused, where more can be said than "not supported". */
const NOT_YET: Readonly<Record<string, string>> = {
  gemma: 'Gemma scales embeddings and uses GeGLU, which this decoder does not have',
  phi3: 'Phi-3 fuses qkv and gate/up projections into single tensors, which this loader does not split yet',
};

/** The weights' dtype a config.json names (`torch_dtype`, or `dtype` in transformers ≥ 4.56); float32 otherwise. */
function storageOf(j: Record<string, unknown>): 'float32' | 'bfloat16' | 'float16' {
  const d = j.torch_dtype ?? j.dtype;
  return d === 'bfloat16' || d === 'float16' ? d : 'float32';
}

const SAFETENSORS_DTYPE = { float32: 'F32', bfloat16: 'BF16', float16: 'F16' } as const;
/** Prefix of the float32 weights in optimizer.safetensors when model.safetensors is 16-bit. */
const MASTER = 'master/';

/**
 * The positions a config lets the model attend over: its `max_position_embeddings`,
 * or a sliding window when one is in force (Mistral's `sliding_window`, Qwen2's with
 * `use_sliding_window`). Within the window the model is exact; longer inputs are refused.
 */
function positionsOf(j: Record<string, unknown>, family: ModelFamily, max: number): number {
  const window = j.sliding_window;
  const inForce = family === 'mistral' || ((family === 'qwen2' || family === 'qwen3') && j.use_sliding_window === true);
  return inForce && typeof window === 'number' && window > 0 ? Math.min(max, window) : max;
}

/**
 * Reads a Hugging Face config.json of the Qwen2, Qwen3, Llama or Mistral families.
 * Anything this decoder would compute differently (biases on o_proj or the MLP, another
 * activation, a Qwen2/Llama head size that is not hidden / heads, an unsupported
 * rope_scaling) is refused with the key that says so. `hasLmHead` (whether the weights hold `lm_head.weight`) decides
 * tying when `tie_word_embeddings` is absent.
 */
export function fromHFConfig(j: Record<string, unknown>, where = 'config.json', hasLmHead?: boolean): ModelConfig {
  const num = (k: string, fallback?: number): number => {
    const v = j[k] ?? fallback;
    if (typeof v !== 'number') throw new CheckpointError(`${where}: '${k}' is missing or not a number`);
    return v;
  };
  const type = j.model_type ?? 'qwen2';
  if (!(MODEL_FAMILIES as readonly unknown[]).includes(type)) {
    const why = typeof type === 'string' && NOT_YET[type] ? `: ${NOT_YET[type]}` : '';
    throw new CheckpointError(`${where}: model_type ${JSON.stringify(type)} is not supported (${MODEL_FAMILIES.join(', ')})${why}`);
  }
  const family = type as ModelFamily;
  const refuse = (key: string, why: string): never => {
    throw new CheckpointError(`${where}: ${key} ${JSON.stringify(j[key])}: ${why}`);
  };
  if (j.hidden_act !== undefined && j.hidden_act !== 'silu') refuse('hidden_act', 'only silu (SwiGLU) is implemented');
  if (j.mlp_bias === true) refuse('mlp_bias', 'MLP biases are not implemented');
  if (family !== 'qwen2' && j.attention_bias === true) refuse('attention_bias', `${family} puts a bias on o_proj too, which is not implemented`);
  const heads = num('num_attention_heads');
  const hidden = num('hidden_size');
  // Qwen3 sizes its heads freely (Qwen3-0.6B: hidden 1024, 16 heads of 128); Qwen2 and
  // Llama here read only hidden / heads.
  const headDim = family === 'qwen3' ? num('head_dim', hidden / heads) : undefined;
  if (family !== 'qwen3' && typeof j.head_dim === 'number' && j.head_dim !== hidden / heads) refuse('head_dim', `this decoder needs hidden_size / num_attention_heads = ${hidden / heads}`);
  // transformers ≥ 4.56 may write one `rope_parameters` object (rope_type, rope_theta and
  // the scaling fields) in place of rope_theta and rope_scaling.
  const params = j.rope_parameters !== null && typeof j.rope_parameters === 'object' ? (j.rope_parameters as Record<string, unknown>) : undefined;
  const ropeTheta = typeof params?.rope_theta === 'number' ? params.rope_theta : num('rope_theta', 10000);
  let ropeScaling;
  try {
    ropeScaling = parseRopeScaling(j.rope_scaling ?? params, where);
  } catch (e) {
    throw new CheckpointError((e as Error).message, { cause: e });
  }
  return checkConfig({
    vocabSize: num('vocab_size'),
    hiddenSize: hidden,
    intermediateSize: num('intermediate_size'),
    numLayers: num('num_hidden_layers'),
    numHeads: heads,
    numKvHeads: num('num_key_value_heads', heads),
    maxPositions: positionsOf(j, family, num('max_position_embeddings', 32768)),
    ropeTheta,
    rmsNormEps: num('rms_norm_eps', 1e-6),
    tieEmbeddings: typeof j.tie_word_embeddings === 'boolean' ? j.tie_word_embeddings : hasLmHead === undefined ? true : !hasLmHead,
    // Qwen2 always has q/k/v biases; a false here is a file of ours from before Llama was written.
    attentionBias: family === 'qwen2' ? j.attention_bias !== false : false,
    ...(ropeScaling ? { ropeScaling } : {}),
    ...(headDim !== undefined && headDim !== hidden / heads ? { headDim } : {}),
    ...(storageOf(j) !== 'float32' ? { storage: storageOf(j) } : {}),
    ...(family === 'qwen3' ? { qkNorm: true } : {}),
    family,
  });
}

function variablesToNamed(vars: ReadonlyMap<string, tf.Variable | tf.Tensor>): Map<string, NamedTensor> {
  return new Map([...vars].map(([name, v]) => [name, { shape: v.shape, data: v.dataSync() as Float32Array }]));
}

/** What a checkpoint holds besides the model. */
export interface CheckpointExtras {
  /** Optimizer slots by name (e.g. `m/model.norm.weight`). */
  readonly optimizer?: ReadonlyMap<string, tf.Tensor>;
  /** JSON state for exact resume (step, RNG state, data order…). */
  readonly trainerState?: unknown;
}

/**
 * The tokenizer files of a Hugging Face folder. `tokenizer.json` keeps standard keys
 * only: warmup's marker for its native byte-level BPE moves to `tokenizer_config.json`
 * (`warmup_tokenizer`), where extra keys are usual. Special tokens are named there and
 * their ids given in `generation_config.json`.
 */
function tokenizerFiles(tokenizer: Tokenizer, c: ModelConfig): { tokenizer: object; tokenizerConfig: object; generationConfig: object } {
  const { warmup: marker, ...json } = tokenizer.toJSON() as Record<string, unknown>;
  const name = (id: number): string | null => specialText(tokenizer, id) ?? null;
  return {
    tokenizer: json,
    tokenizerConfig: {
      tokenizer_class: 'PreTrainedTokenizerFast',
      bos_token: name(tokenizer.bos),
      eos_token: name(tokenizer.eos),
      pad_token: name(tokenizer.pad),
      model_max_length: c.maxPositions,
      clean_up_tokenization_spaces: false,
      ...(marker !== undefined ? { warmup_tokenizer: marker } : {}),
      ...(tokenizer.chatTemplate !== undefined ? { chat_template: tokenizer.chatTemplate } : {}),
    },
    generationConfig: { bos_token_id: tokenizer.bos, eos_token_id: tokenizer.eos, pad_token_id: tokenizer.pad },
  };
}

/** Writes a checkpoint folder atomically. */
export async function saveCheckpoint(dir: string, model: Transformer, tokenizer: Tokenizer, extras: CheckpointExtras = {}): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  const storage = model.config.storage ?? 'float32';
  const { adapter } = model;
  // With an adapter attached, the folder is the adapter alone (PEFT's layout); its base stays where it is.
  const weights = adapter ? new Map<string, NamedTensor>() : variablesToNamed(model.weights);
  if (adapter) {
    await writeFile(join(tmp, 'adapter_config.json'), `${JSON.stringify(adapter.peftConfig(), null, 2)}\n`);
    await writeFile(join(tmp, 'adapter_model.safetensors'), encodeSafetensors(variablesToNamed(adapter.variables()), { format: 'pt', producer: 'warmup' }));
  } else {
    await writeFile(join(tmp, 'config.json'), `${JSON.stringify(toHFConfig(model.config, tokenizer), null, 2)}\n`);
    await writeFile(join(tmp, 'model.safetensors'), encodeSafetensors(weights, { format: 'pt', producer: 'warmup' }, SAFETENSORS_DTYPE[storage]));
  }
  const files = tokenizerFiles(tokenizer, model.config);
  await writeFile(join(tmp, 'tokenizer.json'), JSON.stringify(files.tokenizer));
  await writeFile(join(tmp, 'tokenizer_config.json'), `${JSON.stringify(files.tokenizerConfig, null, 2)}\n`);
  await writeFile(join(tmp, 'generation_config.json'), `${JSON.stringify(files.generationConfig, null, 2)}\n`);
  if (extras.optimizer) {
    // Training state: with 16-bit weights on disk, the float32 weights go beside the
    // optimizer's slots (`master/<name>`), so a resumed run continues exactly.
    const slots = variablesToNamed(extras.optimizer);
    if (storage !== 'float32') for (const [name, t] of weights) slots.set(`${MASTER}${name}`, t);
    await writeFile(join(tmp, 'optimizer.safetensors'), encodeSafetensors(slots));
  }
  if (extras.trainerState !== undefined) await writeFile(join(tmp, 'trainer_state.json'), `${JSON.stringify(extras.trainerState, null, 2)}\n`);
  const existed = await exists(dir);
  const old = `${dir}.old-${process.pid}`;
  if (existed) await rename(dir, old);
  await rename(tmp, dir);
  if (existed) await rm(old, { recursive: true, force: true });
}

/** A loaded checkpoint. */
export interface LoadedCheckpoint {
  readonly model: Transformer;
  readonly tokenizer: Tokenizer;
  readonly optimizer: Map<string, NamedTensor> | null;
  readonly trainerState: unknown;
}

async function readJson(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new CheckpointError(`${path}: cannot read (${(e as Error).message})`, { cause: e });
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new CheckpointError(`${path}: not valid JSON (${(e as Error).message})`, { cause: e });
  }
}

/** Runs a safetensors read, with its errors as CheckpointErrors naming the file. */
const asCheckpointError = <T>(path: string, p: Promise<T>): Promise<T> =>
  p.catch((e: unknown) => {
    throw new CheckpointError(e instanceof SafetensorsError ? e.message : `${path}: cannot read (${(e as Error).message})`, { cause: e });
  });

/** A checkpoint's weights: names and shapes from the headers, values read one tensor at a time. */
interface WeightSource {
  readonly shapes: ReadonlyMap<string, readonly number[]>;
  /** What was read, for messages. */
  readonly weightsPath: string;
  read(name: string): Promise<NamedTensor>;
  close(): Promise<void>;
}

/**
 * The weights of a checkpoint folder: `model.safetensors`, or the shards that
 * `model.safetensors.index.json` maps every tensor to. Only headers are read here.
 */
async function openWeights(dir: string): Promise<WeightSource> {
  const indexPath = join(dir, 'model.safetensors.index.json');
  const open = (path: string) => asCheckpointError(path, openSafetensorsFile(path));
  if (!(await exists(indexPath))) {
    const weightsPath = join(dir, 'model.safetensors');
    if (!(await exists(weightsPath))) throw new CheckpointError(`${dir}: neither model.safetensors nor model.safetensors.index.json (sharded) is there`);
    const file = await open(weightsPath);
    return { shapes: new Map([...file.entries].map(([k, e]) => [k, e.shape])), weightsPath, read: (name) => asCheckpointError(weightsPath, file.read(name)), close: () => file.close() };
  }
  const map = (await readJson(indexPath)).weight_map;
  if (!map || typeof map !== 'object' || Object.values(map).some((f) => typeof f !== 'string')) throw new CheckpointError(`${indexPath}: 'weight_map' must map tensor names to shard files`);
  const shards = new Map<string, SafetensorsReader>();
  const owner = new Map<string, SafetensorsReader>();
  const shapes = new Map<string, readonly number[]>();
  const close = async () => {
    for (const f of shards.values()) await f.close();
  };
  try {
    for (const [name, shard] of Object.entries(map as Record<string, string>)) {
      if (!shards.has(shard)) shards.set(shard, await open(join(dir, shard)));
      const file = shards.get(shard) as SafetensorsReader;
      const entry = file.entries.get(name);
      if (!entry) throw new CheckpointError(`${indexPath}: tensor '${name}' is mapped to ${shard}, which does not hold it`);
      owner.set(name, file);
      shapes.set(name, entry.shape);
    }
  } catch (e) {
    await close();
    throw e;
  }
  const weightsPath = `${indexPath} (${shards.size} shards)`;
  return { shapes, weightsPath, read: (name) => asCheckpointError(weightsPath, (owner.get(name) as SafetensorsReader).read(name)), close };
}

/**
 * A folder's `tokenizer_config.json` ({} when absent): its special tokens' texts (a
 * string or `{content}`), and the chat template from it or from `chat_template.jinja`.
 */
async function readTokenizerConfig(dir: string): Promise<{ config: Record<string, unknown>; token: (key: string) => string | undefined; chatTemplate: string | undefined }> {
  const where = join(dir, 'tokenizer_config.json');
  const config = await readJson(where).catch(() => ({}) as Record<string, unknown>);
  const token = (key: string): string | undefined => {
    const v = config[key];
    return typeof v === 'string' ? v : v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string' ? (v as { content: string }).content : undefined;
  };
  const chatTemplate = chatTemplateOf(config, where) ?? (await readFile(join(dir, 'chat_template.jinja'), 'utf8').catch(() => undefined));
  return { config, token, chatTemplate };
}

/**
 * A checkpoint folder's chat template, compiled, without loading its weights (the task
 * loader renders chat-list prompts with it); null when the folder has none.
 */
export async function readChatTemplate(dir: string): Promise<ChatTemplate | null> {
  const { token, chatTemplate } = await readTokenizerConfig(dir);
  if (chatTemplate === undefined) return null;
  const bos = token('bos_token');
  const eos = token('eos_token');
  return new ChatTemplate(chatTemplate, { ...(bos ? { bos_token: bos } : {}), ...(eos ? { eos_token: eos } : {}) });
}

/** A folder's optimizer slots and trainer state for resume (null where absent). */
async function readTrainingState(dir: string): Promise<{ optimizer: Map<string, NamedTensor> | null; trainerState: unknown }> {
  const optPath = join(dir, 'optimizer.safetensors');
  const optimizer = (await exists(optPath)) ? (await asCheckpointError(optPath, readSafetensorsFile(optPath))).tensors : null;
  const trainerState = await readJson(join(dir, 'trainer_state.json')).catch(() => null);
  return { optimizer, trainerState };
}

/**
 * Attaches the LoRA adapter saved in `dir` (PEFT's adapter_config.json and
 * adapter_model.safetensors) to `model`; errors name the file and tensor.
 */
export async function loadAdapter(model: Transformer, dir: string, base: string): Promise<void> {
  const where = join(dir, 'adapter_config.json');
  let config;
  try {
    config = loraConfigFromPeft(await readJson(where), where);
  } catch (e) {
    throw new CheckpointError((e as Error).message, { cause: e });
  }
  const path = join(dir, 'adapter_model.safetensors');
  const { tensors } = await asCheckpointError(path, readSafetensorsFile(path));
  const modules = new Map<string, { A: tf.Variable; B: tf.Variable }>();
  const expected = loraModules(config, weightShapes(model.config));
  try {
    for (const [module, [out, inp]] of expected) {
      const pair = (['A', 'B'] as const).map((which) => {
        const name = peftName(module, which);
        const want = which === 'A' ? [config.r, inp as number] : [out as number, config.r];
        const t = tensors.get(name);
        if (!t) throw new CheckpointError(`${path}: tensor '${name}' is missing (expected shape [${want.join(', ')}])`);
        if (t.shape.join(',') !== want.join(',')) throw new CheckpointError(`${path}: tensor '${name}' has shape [${t.shape.join(', ')}], expected [${want.join(', ')}] for r ${config.r}`);
        return variableOf(t);
      });
      modules.set(module, { A: pair[0] as tf.Variable, B: pair[1] as tf.Variable });
    }
  } catch (e) {
    for (const { A, B } of modules.values()) tf.dispose([A, B]);
    throw e;
  }
  const named = new Set([...expected.keys()].flatMap((m) => [peftName(m, 'A'), peftName(m, 'B')]));
  const extra = [...tensors.keys()].filter((k) => !named.has(k));
  if (extra.length > 0) throw new CheckpointError(`${path}: tensors this adapter config does not name: ${extra.slice(0, 3).join(', ')}${extra.length > 3 ? ', …' : ''}`);
  model.adapter?.dispose();
  model.adapter = new LoraAdapter(config, modules, base);
}

/**
 * The base checkpoint an adapter names (`base_model_name_or_path`): a path as given, else
 * relative to the adapter's folder.
 */
async function adapterBase(dir: string): Promise<string> {
  const where = join(dir, 'adapter_config.json');
  const base = (await readJson(where)).base_model_name_or_path;
  if (typeof base !== 'string' || base === '') throw new CheckpointError(`${where}: base_model_name_or_path must name the base checkpoint's folder`);
  for (const candidate of [base, join(dir, base)]) if (await exists(join(candidate, 'config.json'))) return candidate;
  throw new CheckpointError(`${where}: the base checkpoint ${JSON.stringify(base)} is not a folder here (hub names cannot be fetched; give a local path)`);
}

/** The tokenizer of a checkpoint folder: tokenizer.json, with tokenizer_config.json's special tokens and chat template. */
async function readCheckpointTokenizer(dir: string): Promise<Tokenizer> {
  const tokJson = await readJson(join(dir, 'tokenizer.json'));
  const { config: tokConfig, token, chatTemplate } = await readTokenizerConfig(dir);
  // Our folders keep the native-tokenizer marker in tokenizer_config.json (older ones, in tokenizer.json).
  const marker = tokConfig.warmup_tokenizer;
  const tokenizer = tokenizerFromJSON(marker !== undefined && tokJson.warmup === undefined ? { ...tokJson, warmup: marker } : tokJson, {
    ...(token('eos_token') ? { eos_token: token('eos_token') as string } : {}),
    ...(token('pad_token') ? { pad_token: token('pad_token') as string } : {}),
    ...(token('bos_token') ? { bos_token: token('bos_token') as string } : {}),
  });
  if (chatTemplate !== undefined) tokenizer.chatTemplate = chatTemplate;
  return tokenizer;
}

/**
 * Loads our checkpoints and Hugging Face Qwen2/Qwen3/Llama/Mistral folders (one file or
 * shards); every mismatch names the tensor and shapes. A LoRA adapter folder (PEFT's
 * layout) loads as its base with the adapter attached; so does any folder with `adapter`
 * (an adapter folder to apply to it).
 */
export async function loadCheckpoint(dir: string, options: { readonly adapter?: string } = {}): Promise<LoadedCheckpoint> {
  const adapterFolder = !(await exists(join(dir, 'config.json'))) && (await exists(join(dir, 'adapter_config.json')));
  if (options.adapter || adapterFolder) {
    // `dir` is the base and options.adapter the adapter, or `dir` is an adapter naming its base.
    const base = options.adapter ? dir : await adapterBase(dir);
    const loaded = await loadCheckpoint(base);
    try {
      await loadAdapter(loaded.model, options.adapter ?? dir, base);
    } catch (e) {
      loaded.model.dispose();
      throw e;
    }
    // An adapter folder a run wrote holds that run's optimizer state, not the base's.
    return options.adapter ? loaded : { ...loaded, ...(await readTrainingState(dir)) };
  }
  const hfConfig = await readJson(join(dir, 'config.json'));
  // The tokenizer before any weight: a folder without a readable one fails with nothing to free.
  const tokenizer = await readCheckpointTokenizer(dir);
  const source = await openWeights(dir);
  const weights = new Map<string, tf.Variable>();
  let config: ModelConfig;
  let optimizer: Map<string, NamedTensor> | null;
  let trainerState: unknown;
  try {
    config = fromHFConfig(hfConfig, join(dir, 'config.json'), source.shapes.has('lm_head.weight'));
    const expected = weightShapes(config);
    const { weightsPath } = source;
    // Older Llama saves also hold each layer's RoPE table (`rotary_emb.inv_freq`), which is computed, not learned.
    const extra = [...source.shapes.keys()].filter((k) => !expected.has(k) && !(k === 'lm_head.weight' && config.tieEmbeddings) && !k.endsWith('.rotary_emb.inv_freq'));
    if (extra.length > 0) throw new CheckpointError(`${weightsPath}: unexpected tensors for this config: ${extra.slice(0, 5).join(', ')}${extra.length > 5 ? ', …' : ''}`);
    for (const [name, shape] of expected) {
      const stored = source.shapes.get(name);
      if (!stored) throw new CheckpointError(`${weightsPath}: tensor '${name}' is missing (expected shape [${shape.join(', ')}])`);
      if (stored.join(',') !== shape.join(',')) {
        throw new CheckpointError(`${weightsPath}: tensor '${name}' has shape [${stored.join(', ')}], but config.json implies [${shape.join(', ')}]`);
      }
    }
    ({ optimizer, trainerState } = await readTrainingState(dir));
    // A training checkpoint with 16-bit weights keeps their float32 values beside the optimizer's slots.
    const master = new Map<string, NamedTensor>();
    for (const [key, t] of optimizer ?? []) {
      if (!key.startsWith(MASTER)) continue;
      master.set(key.slice(MASTER.length), t);
      optimizer?.delete(key);
    }
    // One tensor at a time: read, converted to float32, copied into its variable, dropped.
    for (const name of expected.keys()) {
      const t = master.get(name) ?? (await source.read(name));
      weights.set(name, variableOf(t));
    }
  } catch (e) {
    for (const w of weights.values()) w.dispose();
    throw e;
  } finally {
    await source.close();
  }
  if (tokenizer.vocabSize > config.vocabSize) {
    for (const w of weights.values()) w.dispose();
    throw new CheckpointError(`${dir}: the tokenizer has ${tokenizer.vocabSize} tokens but the model's vocab_size is ${config.vocabSize}`);
  }
  return { model: new Transformer(config, weights), tokenizer, optimizer, trainerState };
}
