/**
 * Rotary position embeddings: the inverse frequencies of each head dimension pair, with
 * the Hugging Face `rope_scaling` variants that change them (linear, Llama 3). Variants
 * that also change the attention scale or depend on the sequence length (yarn, dynamic,
 * longrope) are refused by the config reader rather than approximated.
 */

/** A RoPE frequency scaling, as Hugging Face's `rope_scaling` describes it. */
export type RopeScaling =
  | { readonly type: 'linear'; readonly factor: number }
  | {
      readonly type: 'llama3';
      readonly factor: number;
      readonly lowFreqFactor: number;
      readonly highFreqFactor: number;
      /** The context length the model was first trained at. */
      readonly originalMaxPositions: number;
    };

/** The `rope_scaling` types `parseRopeScaling` accepts. */
export const ROPE_SCALING_TYPES = ['default', 'linear', 'llama3'] as const;

/**
 * Reads a config's `rope_scaling` (null, or an object with `rope_type` or the older
 * `type`); `undefined` means none. Throws a message naming the field for anything else.
 */
export function parseRopeScaling(value: unknown, where: string): RopeScaling | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw new Error(`${where}: rope_scaling must be an object or null, got ${JSON.stringify(value)}`);
  const v = value as Record<string, unknown>;
  const type = v.rope_type ?? v.type;
  const num = (k: string): number => {
    const x = v[k];
    if (typeof x !== 'number' || !(x > 0)) throw new Error(`${where}: rope_scaling.${k} must be a positive number, got ${JSON.stringify(x)}`);
    return x;
  };
  if (type === 'default') return undefined;
  if (type === 'linear') return { type, factor: num('factor') };
  if (type === 'llama3') {
    const s = { type, factor: num('factor'), lowFreqFactor: num('low_freq_factor'), highFreqFactor: num('high_freq_factor'), originalMaxPositions: num('original_max_position_embeddings') } as const;
    if (s.highFreqFactor <= s.lowFreqFactor) throw new Error(`${where}: rope_scaling.high_freq_factor (${s.highFreqFactor}) must exceed low_freq_factor (${s.lowFreqFactor})`);
    return s;
  }
  throw new Error(`${where}: rope_scaling type ${JSON.stringify(type)} is not supported (${ROPE_SCALING_TYPES.join(', ')}); it would change the model's outputs, so it is refused rather than ignored`);
}

/** The `rope_scaling` object Hugging Face writes for `s`. */
export function ropeScalingToHF(s: RopeScaling): Record<string, unknown> {
  return s.type === 'linear'
    ? { rope_type: 'linear', factor: s.factor }
    : { rope_type: 'llama3', factor: s.factor, low_freq_factor: s.lowFreqFactor, high_freq_factor: s.highFreqFactor, original_max_position_embeddings: s.originalMaxPositions };
}

/**
 * Inverse frequency of each of the `headSize / 2` rotated pairs: θ^(−2i/E), then scaled.
 * Llama 3 keeps high frequencies (wavelength under original / high_freq_factor), divides
 * low ones (wavelength over original / low_freq_factor) by `factor`, and blends between.
 */
export function ropeInvFreq(theta: number, headSize: number, scaling?: RopeScaling): number[] {
  const base = Array.from({ length: headSize / 2 }, (_, i) => 1 / theta ** ((2 * i) / headSize));
  if (!scaling) return base;
  if (scaling.type === 'linear') return base.map((f) => f / scaling.factor);
  const { factor, lowFreqFactor, highFreqFactor, originalMaxPositions } = scaling;
  const lowFreqWavelen = originalMaxPositions / lowFreqFactor;
  const highFreqWavelen = originalMaxPositions / highFreqFactor;
  return base.map((f) => {
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < highFreqWavelen) return f;
    if (wavelen > lowFreqWavelen) return f / factor;
    const smooth = (originalMaxPositions / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
    return (1 - smooth) * (f / factor) + smooth * f;
  });
}
