/**
 * The RL (GRPO) config: its type, each default with the reason for it, and its check.
 * The one source of these defaults: the stage (`rlvr.ts`) takes `DEFAULT_RLVR`;
 * `warmup rlvr` and `warmup replay` take their option defaults and the reasons in
 * their help from `RLVR_SETTINGS`; the pipelines pass only the settings they change,
 * so the rest come from here through the CLI.
 */
import type { AdvantageKind } from '../train/grpo.js';
import type { LearnerConfig } from '../train/policy.js';

export interface RLVRConfig extends LearnerConfig {
  /** Completions per prompt (G). */
  readonly groupSize: number;
  /** Groups per optimiser batch. */
  readonly promptsPerStep: number;
  /** Updates to run. */
  readonly steps: number;
  readonly maxNewTokens: number;
  readonly topP: number;
  readonly topK: number;
  readonly stop: readonly string[];
  readonly advantage: AdvantageKind;
  /** Drop groups whose rewards are all equal, and sample more prompts to refill the batch. */
  readonly dynamicSampling: boolean;
  /** Truncated completions: trained as they are ('none'), left out of the loss ('mask'), or penalised ('soft'). */
  readonly overlong: 'none' | 'mask' | 'soft';
  /** Tokens before maxNewTokens where the soft penalty starts. */
  readonly overlongCache: number;
  readonly warmupSteps: number;
  /** Policy versions a rollout may lag the policy it trains (0: strictly on-policy). */
  readonly maxStaleness: number;
  /** Prompts generated per model call; smaller chunks overlap generation with verification. */
  readonly chunkPrompts: number;
  /** Completions scored at once. */
  readonly verifyConcurrency: number;
  /** Save a checkpoint every this many steps (0: only at the end). */
  readonly saveEvery: number;
  readonly seed: number;
}

/** The paper's RLVR learning rate, for its Qwen2.5-3B student. */
export const PAPER_RL_LR = 1e-6;
const PAPER_HIDDEN = 2048;

/**
 * The paper's learning rate scaled to a student of hidden size `hidden`: Adam's
 * learning rate for hidden matrices scales as 1/width (μP), so a narrower student gets
 * a proportionally larger one.
 */
export const scaledRlLr = (hidden: number): number => PAPER_RL_LR * (PAPER_HIDDEN / hidden);

/** A default and the one-line reason for it (shown in `warmup rlvr --help`). */
export interface Setting<T> {
  readonly value: T;
  readonly why: string;
}

/** Settings of `warmup rlvr` that size the run rather than the stage: together they set `steps`. */
export const RLVR_RUN_SETTINGS = {
  maxExamples: { value: 100, why: "the paper's target set: at most 100 examples" },
  epochs: { value: 25, why: "the paper's 25 passes over the target set" },
} as const satisfies Record<string, Setting<number>>;

/** Every RL setting's default, with its reason: the paper's recipe (G = 10, T = 0.7, no KL, Dr. GRPO) with DAPO's clip-higher. */
export const RLVR_SETTINGS = {
  groupSize: { value: 10, why: "the paper's G: completions per prompt that share a baseline" },
  promptsPerStep: { value: 4, why: "4 groups (40 completions) per update: 625 updates over the paper's 100 examples × 25 epochs" },
  steps: { value: 625, why: '100 examples × 25 epochs / 4 prompts per step, as the paper (`warmup rlvr` derives it from --epochs)' },
  temperature: { value: 0.7, why: "the paper's sampling temperature, in training as in evaluation" },
  maxNewTokens: { value: 512, why: "room for a short chain of thought within a CPU budget; the rlvr pipeline's paper preset takes 4096" },
  topP: { value: 1, why: 'no nucleus cut: the loss takes log-probs of the whole distribution sampled from' },
  topK: { value: 0, why: 'no top-k cut, for the same reason' },
  stop: { value: [], why: 'completions end at end-of-text or the token budget' },
  advantage: { value: 'dr-grpo', why: "the paper's: reward minus the group mean, no division by the std" },
  clipLow: { value: 0.2, why: "PPO's usual clip range" },
  clipHigh: { value: 0.28, why: "DAPO's clip-higher: room for unlikely tokens to rise" },
  aggregation: { value: 'token-mean', why: "DAPO's: every token weighs the same, so long completions are not down-weighted" },
  beta: { value: 0, why: 'as the paper: no KL term, so no reference model in memory' },
  mu: { value: 1, why: 'one optimiser step per batch: the ratio starts at 1, strictly on-policy' },
  dynamicSampling: { value: false, why: "off, as the paper; DAPO's refill of all-equal groups is opt-in" },
  overlong: { value: 'mask', why: 'a cut-off completion has no verdict worth learning from: left out of the loss' },
  overlongCache: { value: 64, why: "DAPO's soft penalty ramps over the budget's last 64 tokens" },
  lr: { value: PAPER_RL_LR, why: "the paper's 1e-6 for its 2048-wide student, which the CLI scales to the model's width (scaledRlLr)" },
  beta1: { value: 0.9, why: "AdamW's usual first-moment decay" },
  beta2: { value: 0.99, why: "a shorter second-moment memory than 0.999, for RL's noisy gradients" },
  eps: { value: 1e-8, why: "AdamW's usual" },
  weightDecay: { value: 0, why: 'none: a few hundred small updates from a trained model' },
  anchorDecay: { value: 0, why: 'none, as the paper: a few hundred small updates stay near the start' },
  clipNorm: { value: 1, why: 'gradient norm clipped at 1, as TRL and verl' },
  warmupSteps: { value: 0, why: 'no warmup: the learning rate is already small' },
  microBatch: { value: 8, why: "fits a small student's activations; it changes memory, not the maths" },
  maxStaleness: { value: 0, why: 'strictly on-policy, as the paper' },
  chunkPrompts: { value: 4, why: 'whole batches, as on a CPU batching beats chunked overlap (npm run bench -- rlvr)' },
  verifyConcurrency: { value: 8, why: 'completions scored at once; the sandbox pool queues the rest' },
  saveEvery: { value: 10, why: 'periodic checkpoints to resume from and to evaluate mid-run' },
  seed: { value: 0, why: 'a fixed seed: the same command makes the same run' },
} as const satisfies { readonly [K in keyof RLVRConfig]: Setting<RLVRConfig[K]> };

/** The values of a settings table. */
function valuesOf<C>(settings: { readonly [K in keyof C]: Setting<C[K]> }): C {
  return Object.fromEntries(Object.entries(settings).map(([k, s]) => [k, (s as Setting<unknown>).value])) as C;
}

/** The defaults of `RLVR_SETTINGS` as a config. */
export const DEFAULT_RLVR: RLVRConfig = valuesOf<RLVRConfig>(RLVR_SETTINGS);

/** Checks a config; errors name the field. */
export function checkRLVRConfig(c: RLVRConfig): RLVRConfig {
  const ints = ['groupSize', 'promptsPerStep', 'steps', 'maxNewTokens', 'mu', 'microBatch', 'chunkPrompts', 'verifyConcurrency'] as const;
  for (const k of ints) if (!Number.isInteger(c[k]) || c[k] < 1) throw new Error(`rlvr: ${k} must be a positive integer, got ${c[k]}`);
  for (const k of ['maxStaleness', 'saveEvery', 'warmupSteps', 'overlongCache', 'topK'] as const) {
    if (!Number.isInteger(c[k]) || c[k] < 0) throw new Error(`rlvr: ${k} must be a non-negative integer, got ${c[k]}`);
  }
  if (!(c.lr > 0)) throw new Error(`rlvr: lr must be > 0, got ${c.lr}`);
  if (!(c.temperature > 0)) throw new Error(`rlvr: temperature must be > 0 (sampling needs it), got ${c.temperature}`);
  if (!(c.clipLow >= 0 && c.clipLow < 1) || !(c.clipHigh >= 0)) throw new Error(`rlvr: clip ranges must be clipLow in [0, 1) and clipHigh >= 0, got ${c.clipLow}, ${c.clipHigh}`);
  if (!(c.beta >= 0)) throw new Error(`rlvr: beta must be >= 0, got ${c.beta}`);
  if (c.overlong === 'soft' && c.overlongCache >= c.maxNewTokens) throw new Error(`rlvr: overlongCache (${c.overlongCache}) must be below maxNewTokens (${c.maxNewTokens})`);
  return c;
}
