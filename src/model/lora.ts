/**
 * LoRA adapters (Hu et al. 2021) in PEFT's layout: each adapted linear layer W [out, in]
 * gains A [r, in] and B [out, r], and computes x·Wᵀ + (α/r)·(x·Aᵀ)·Bᵀ. A starts as
 * PEFT's Kaiming-uniform draw, B at zero, so a fresh adapter changes nothing. Only A and
 * B train; the base weights stay as loaded.
 *
 * On disk (PEFT): `adapter_config.json` and `adapter_model.safetensors` with tensors
 * named `base_model.model.<module>.lora_A.weight` / `.lora_B.weight`.
 */
import * as tf from '@tensorflow/tfjs';

/** The linear layers an adapter can target, by their Hugging Face module names. */
export const LORA_TARGETS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const;
export type LoraTarget = (typeof LORA_TARGETS)[number];

/** An adapter's shape: rank, scale and the layers it adapts. */
export interface LoraConfig {
  readonly r: number;
  /** Scale numerator: the update is (alpha / r)·B·A. */
  readonly alpha: number;
  readonly targets: readonly LoraTarget[];
}

export const DEFAULT_LORA: Omit<LoraConfig, 'r'> = { alpha: 16, targets: LORA_TARGETS };

/** Checks a LoRA config; errors name the field and what is allowed. */
export function checkLoraConfig(c: LoraConfig): LoraConfig {
  if (!Number.isInteger(c.r) || c.r < 1) throw new Error(`lora: r must be a positive integer, got ${c.r}`);
  if (!(c.alpha > 0)) throw new Error(`lora: alpha must be positive, got ${c.alpha}`);
  if (c.targets.length === 0) throw new Error(`lora: no target layers (choose from ${LORA_TARGETS.join(', ')})`);
  for (const t of c.targets) if (!(LORA_TARGETS as readonly string[]).includes(t)) throw new Error(`lora: unknown target '${t}' (choose from ${LORA_TARGETS.join(', ')})`);
  return c;
}

/** PEFT's name of a module's A or B weight. */
export const peftName = (module: string, which: 'A' | 'B'): string => `base_model.model.${module}.lora_${which}.weight`;

/** The adapted modules (e.g. `model.layers.0.self_attn.q_proj`) of a model, with their [out, in] shapes. */
export function loraModules(config: LoraConfig, shapes: ReadonlyMap<string, readonly number[]>): Map<string, readonly number[]> {
  const out = new Map<string, readonly number[]>();
  for (const [name, shape] of shapes) {
    const m = /^(model\.layers\.\d+\.(?:self_attn|mlp)\.([a-z_]+))\.weight$/.exec(name);
    if (m && (config.targets as readonly string[]).includes(m[2] as string)) out.set(m[1] as string, shape);
  }
  return out;
}

/** A LoRA adapter attached to a model: its A and B variables by module name. */
export class LoraAdapter {
  readonly scale: number;

  constructor(
    readonly config: LoraConfig,
    /** A [r, in] and B [out, r] per module, as tf.Variables. */
    readonly modules: ReadonlyMap<string, { readonly A: tf.Variable; readonly B: tf.Variable }>,
    /** The base checkpoint the adapter belongs to (adapter_config.json's base_model_name_or_path). */
    readonly base: string,
  ) {
    checkLoraConfig(config);
    this.scale = config.alpha / config.r;
  }

  /** A fresh adapter for a model with these weight shapes: A ~ PEFT's Kaiming uniform, B = 0. */
  static init(config: LoraConfig, shapes: ReadonlyMap<string, readonly number[]>, base: string, seed = 0): LoraAdapter {
    checkLoraConfig(config);
    const modules = new Map<string, { A: tf.Variable; B: tf.Variable }>();
    let k = 0;
    for (const [name, [out, inp]] of loraModules(config, shapes)) {
      // kaiming_uniform_(a=√5): bound = √(6 / ((1 + a²)·fan_in)) = 1/√fan_in.
      const bound = 1 / Math.sqrt(inp as number);
      const A = tf.tidy(() => tf.variable(tf.randomUniform([config.r, inp as number], -bound, bound, 'float32', seed * 7919 + ++k), true));
      const B = tf.tidy(() => tf.variable(tf.zeros([out as number, config.r]), true));
      modules.set(name, { A, B });
    }
    return new LoraAdapter(config, modules, base);
  }

  /** (α/r)·(x·Aᵀ)·Bᵀ for module `name`, or null when it is not adapted. x: [N, in] → [N, out]. */
  delta(x: tf.Tensor2D, name: string): tf.Tensor2D | null {
    const m = this.modules.get(name);
    if (!m) return null;
    const low = tf.matMul(x, m.A as tf.Tensor2D, false, true); // [N, r]
    return tf.mul(tf.matMul(low, m.B as tf.Tensor2D, false, true), this.scale) as tf.Tensor2D; // [N, out]
  }

  /** The trainable variables under PEFT's names. */
  variables(): Map<string, tf.Variable> {
    const out = new Map<string, tf.Variable>();
    for (const [name, { A, B }] of this.modules) {
      out.set(peftName(name, 'A'), A);
      out.set(peftName(name, 'B'), B);
    }
    return out;
  }

  /** PEFT's adapter_config.json for this adapter. */
  peftConfig(): Record<string, unknown> {
    return {
      peft_type: 'LORA',
      task_type: 'CAUSAL_LM',
      base_model_name_or_path: this.base,
      r: this.config.r,
      lora_alpha: this.config.alpha,
      lora_dropout: 0,
      target_modules: [...this.config.targets],
      bias: 'none',
      fan_in_fan_out: false,
      use_rslora: false,
      use_dora: false,
      inference_mode: true,
      modules_to_save: null,
      revision: null,
    };
  }

  dispose(): void {
    for (const { A, B } of this.modules.values()) {
      A.dispose();
      B.dispose();
    }
  }
}

/** Reads an adapter_config.json; refuses what this adapter would compute differently. */
export function loraConfigFromPeft(j: Record<string, unknown>, where: string): LoraConfig {
  const refuse = (key: string, why: string): never => {
    throw new Error(`${where}: ${key} ${JSON.stringify(j[key])}: ${why}`);
  };
  if (j.peft_type !== undefined && j.peft_type !== 'LORA') refuse('peft_type', 'only LORA adapters are supported');
  if (j.use_rslora === true) refuse('use_rslora', 'rank-stabilised scaling is not implemented');
  if (j.use_dora === true) refuse('use_dora', 'DoRA is not implemented');
  if (j.fan_in_fan_out === true) refuse('fan_in_fan_out', 'transposed (Conv1D) weights are not used by these models');
  if (j.bias !== undefined && j.bias !== 'none') refuse('bias', 'adapter biases are not implemented');
  if (j.modules_to_save !== undefined && j.modules_to_save !== null) refuse('modules_to_save', 'fully trained extra modules are not implemented');
  if (j.rank_pattern && Object.keys(j.rank_pattern as object).length > 0) refuse('rank_pattern', 'per-layer ranks are not implemented');
  if (j.alpha_pattern && Object.keys(j.alpha_pattern as object).length > 0) refuse('alpha_pattern', 'per-layer alphas are not implemented');
  let targets = j.target_modules;
  if (targets === 'all-linear') targets = [...LORA_TARGETS];
  if (!Array.isArray(targets)) refuse('target_modules', `must be a list of module names (${LORA_TARGETS.join(', ')}) or "all-linear"`);
  return checkLoraConfig({ r: Number(j.r), alpha: Number(j.lora_alpha ?? j.r), targets: targets as LoraTarget[] });
}
