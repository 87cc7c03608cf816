/**
 * A tiny RL task for tests and benchmarks: a small model pre-trained (by SFT) to emit
 * four random digits after "digits:", then rewarded for the share of sevens. The base
 * policy scores about 0.1; GRPO should push it up within a few dozen steps on a CPU.
 */
import { selectBackend } from '../../src/model/backend.js';
import { trainByteBpe, type ByteBpeTokenizer } from '../../src/model/tokenizer.js';
import { presetConfig, Transformer } from '../../src/model/transformer.js';
import type { RewardResult, RewardSample } from '../../src/reward/types.js';
import type { RLExample } from '../../src/stages/rlvr.js';
import { SFTTrainer, tokenizeExample } from '../../src/train/sft.js';
import { Rng } from '../../src/util/rng.js';

export interface DigitsTask {
  readonly tokenizer: ByteBpeTokenizer;
  readonly model: Transformer;
  readonly examples: RLExample[];
}

const digits = (rng: Rng, n: number): string => Array.from({ length: n }, () => ` ${rng.int(10)}`).join('');

/** Builds the pre-trained digits model (about 10 s on one wasm thread). */
export async function digitsTask(seed = 0, sftSteps = 150): Promise<DigitsTask> {
  await selectBackend('wasm');
  const rng = new Rng(seed);
  const tokenizer = trainByteBpe(Array.from({ length: 50 }, () => `digits:${digits(rng, 4)}`), 270);
  const model = Transformer.init(presetConfig('tiny', tokenizer.vocabSize, { hiddenSize: 48, intermediateSize: 96, numLayers: 2, numHeads: 4, numKvHeads: 2, maxPositions: 32 }), seed);
  const train = Array.from({ length: sftSteps * 16 }, () => tokenizeExample(tokenizer, { prompt: 'digits:', completion: digits(rng, 4) }, 32));
  const trainer = new SFTTrainer(model, tokenizer, { epochs: 1, batchSize: 16, packing: false, lr: 3e-3, warmupSteps: 10, seed });
  for await (const step of trainer.train(train)) void step;
  trainer.dispose();
  const examples = Array.from({ length: 8 }, (_, i) => ({ id: `q${i}`, prompt: 'digits:', row: { target: '7' } }));
  return { tokenizer, model, examples };
}

/** Share of the digits that are the row's target digit; ok at one half or more. */
export function sevens(sample: RewardSample): RewardResult {
  const found = sample.completion.match(/\d/g) ?? [];
  if (found.length === 0) return { score: 0, status: 'format_error', parts: { sevens: 0 }, reason: 'no digits' };
  const score = found.filter((d) => d === sample.row.target).length / found.length;
  return { score, status: score >= 0.5 ? 'ok' : 'wrong', parts: { sevens: score }, reason: null };
}
