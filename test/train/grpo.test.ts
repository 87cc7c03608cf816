import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/model/backend.js';
import { generate } from '../../src/model/sample.js';
import { trainByteBpe, type ByteBpeTokenizer } from '../../src/model/tokenizer.js';
import { presetConfig, Transformer } from '../../src/model/transformer.js';
import { aggregationWeights, groupAdvantages, k3, overlongPenalty, policyLoss, type PolicyLossConfig } from '../../src/train/grpo.js';
import { completionLogprobs, fitMicroBatch, LOGITS_BUDGET, microBatches, PolicyLearner, tokenLogprobs, type LearnerConfig, type PolicyRow } from '../../src/train/policy.js';
import { DEFAULT_ADAMW } from '../../src/train/optim.js';
import { Rng } from '../../src/util/rng.js';

const ln = Math.log;

describe('group advantages', () => {
  it('Dr. GRPO centres without scaling', () => {
    expect(groupAdvantages([1, 0, 0, 1], 'dr-grpo')).toEqual({ advantages: [0.5, -0.5, -0.5, 0.5], excluded: 0, degenerate: false });
  });

  it('GRPO divides by the (Bessel-corrected) std plus eps', () => {
    const a = groupAdvantages([1, 0, 0, 1], 'grpo').advantages as number[];
    const std = Math.sqrt(1 / 3); // ((4 × 0.25) / 3)
    expect(a[0]).toBeCloseTo(0.5 / (std + 1e-4), 12);
    expect(a[1]).toBeCloseTo(-0.5 / (std + 1e-4), 12);
  });

  it('RLOO subtracts the mean of the other completions', () => {
    const a = groupAdvantages([1, 0, 0, 1], 'rloo').advantages as number[];
    expect(a[0]).toBeCloseTo(1 - 1 / 3, 12);
    expect(a[1]).toBeCloseTo(0 - 2 / 3, 12);
    const b = groupAdvantages([3, 1], 'rloo').advantages as number[];
    expect(b).toEqual([2, -2]);
  });

  it('gives zeros to degenerate groups: all equal, or a single completion', () => {
    for (const kind of ['grpo', 'dr-grpo', 'rloo'] as const) {
      expect(groupAdvantages([1, 1, 1], kind)).toEqual({ advantages: [0, 0, 0], excluded: 0, degenerate: true });
      expect(groupAdvantages([0.25], kind)).toEqual({ advantages: [0], excluded: 0, degenerate: true });
    }
  });

  it('excludes null and NaN rewards from the statistics and says how many', () => {
    expect(groupAdvantages([1, Number.NaN, 0, null], 'dr-grpo')).toEqual({ advantages: [0.5, null, -0.5, null], excluded: 2, degenerate: false });
    expect(groupAdvantages([null, null], 'grpo')).toEqual({ advantages: [null, null], excluded: 2, degenerate: true });
    expect(groupAdvantages([1, Number.POSITIVE_INFINITY, 1], 'grpo')).toEqual({ advantages: [0, null, 0], excluded: 1, degenerate: true });
  });
});

describe('micro-batch fitting', () => {
  const row = (n: number): PolicyRow => ({ promptIds: Array.from({ length: n / 2 }, () => 1), completionIds: Array.from({ length: n / 2 }, () => 2), oldLogprobs: [], advantage: 1 });
  it('keeps the requested size for a small vocabulary, and shrinks it (never below 1) when the logits would not fit', () => {
    expect(fitMicroBatch([row(700), row(100)], 1500, 8)).toBe(8); // the toy world: 67 MB at 8 rows
    expect(fitMicroBatch([row(128)], 151936, 8)).toBe(1); // Qwen2.5's vocabulary: ~311 MB a row
    expect(fitMicroBatch([row(64)], 151936, 8)).toBe(Math.floor(LOGITS_BUDGET / (16 * 64 * 151936)));
    expect(fitMicroBatch([row(4096)], 151936, 8)).toBe(1);
  });
});

describe('policy loss', () => {
  const cfg: PolicyLossConfig = { clipLow: 0.2, clipHigh: 0.28, beta: 0, aggregation: 'token-mean' };

  it('clips the ratio high for positive advantages (clip-higher) and counts clipped tokens', () => {
    const row = { logp: [ln(1.5), ln(0.5)], oldLogp: [0, 0], advantage: 1, mask: [1, 1] };
    const v = policyLoss([row], cfg);
    expect(v.loss).toBeCloseTo((-1.28 - 0.5) / 2, 12);
    expect(v.clipFraction).toBe(0.5);
  });

  it('clips the ratio low for negative advantages', () => {
    const row = { logp: [ln(1.5), ln(0.5)], oldLogp: [0, 0], advantage: -1, mask: [1, 1] };
    const v = policyLoss([row], cfg);
    expect(v.loss).toBeCloseTo((1.5 + 0.8) / 2, 12);
    expect(v.clipFraction).toBe(0.5);
  });

  it('aggregates by token or by sequence, and skips masked tokens', () => {
    const rows = [
      { logp: [0], oldLogp: [0], advantage: -4, mask: [1] },
      { logp: [0, 0, 0, 0], oldLogp: [0, 0, 0, 0], advantage: -1, mask: [1, 1, 1, 0] },
    ];
    expect(policyLoss(rows, cfg).loss).toBeCloseTo((4 + 3) / 4, 12);
    expect(policyLoss(rows, { ...cfg, aggregation: 'sequence-mean' }).loss).toBeCloseTo((4 + 1) / 2, 12);
    expect(policyLoss(rows, cfg).tokens).toBe(4);
    expect(aggregationWeights([[1], [1, 1, 1, 0], [0, 0]], 'sequence-mean')).toEqual([[0.5], [1 / 6, 1 / 6, 1 / 6, 0], [0, 0]]);
  });

  it('adds β times the k3 KL estimate', () => {
    expect(k3(0, ln(2))).toBeCloseTo(2 - ln(2) - 1, 12);
    expect(k3(-1.3, -1.3)).toBe(0);
    const v = policyLoss([{ logp: [0], oldLogp: [0], refLogp: [ln(2)], advantage: 0, mask: [1] }], { ...cfg, beta: 0.5 });
    expect(v.loss).toBeCloseTo(0.5 * (1 - ln(2)), 12);
    expect(v.kl).toBeCloseTo(1 - ln(2), 12);
  });

  it('soft overlong penalty: free, then linear to −1, then −1', () => {
    expect(overlongPenalty(80, 100, 20)).toBe(0);
    expect(overlongPenalty(90, 100, 20)).toBeCloseTo(-0.5, 12);
    expect(overlongPenalty(100, 100, 20)).toBe(-1);
    expect(overlongPenalty(101, 100, 20)).toBe(-1);
    expect(overlongPenalty(101, 100, 0)).toBe(-1);
  });
});

describe('the tensor learner (wasm)', () => {
  let tok: ByteBpeTokenizer;
  beforeAll(async () => {
    await selectBackend('wasm');
    tok = trainByteBpe(['digits: 1 2 3 4 5 6 7 8 9 0', 'abc def'], 280);
  });
  const config = (over: Partial<LearnerConfig> = {}): LearnerConfig => ({ ...DEFAULT_ADAMW, lr: 1e-3, clipLow: 0.2, clipHigh: 0.28, beta: 0, aggregation: 'token-mean', temperature: 0.7, mu: 1, microBatch: 3, ...over });
  const tiny = (seed: number): Transformer => Transformer.init(presetConfig('tiny', tok.vocabSize, { hiddenSize: 32, intermediateSize: 64, numLayers: 2, numHeads: 4, numKvHeads: 2, maxPositions: 64 }), seed);

  it('records sampling-time log-probs that a full forward reproduces (ratio 1 on-policy)', () => {
    const model = tiny(1);
    const prompts = [tok.encode('digits:'), tok.encode('abc')];
    const gens = generate(model, tok, prompts, { maxNewTokens: 10, temperature: 0.7, seed: 3 });
    const rows: PolicyRow[] = gens.map((g, i) => ({ promptIds: prompts[i] as number[], completionIds: g.tokens, oldLogprobs: g.logprobs, advantage: 1 }));
    const full = completionLogprobs(model, rows, 0.7, tok.pad);
    full.forEach((lp, i) => lp.forEach((x, t) => expect(x).toBeCloseTo((gens[i] as { logprobs: number[] }).logprobs[t] as number, 4)));
    model.dispose();
  });

  it('prefills a shared prompt once in generation: the same tokens and log-probs as one prompt at a time', () => {
    const model = tiny(6);
    const p = tok.encode('digits: 1 2');
    const q = tok.encode('abc');
    const seeds = [11, 12, 13, 14];
    const together = generate(model, tok, [p, p, q, p], { maxNewTokens: 6, temperature: 1, seeds });
    const apart = [p, p, q, p].map((x, i) => generate(model, tok, [x], { maxNewTokens: 6, temperature: 1, seeds: [seeds[i] as number] })[0]);
    expect(together.map((g) => g.tokens)).toEqual(apart.map((g) => g?.tokens));
    together.forEach((g, i) => g.logprobs.forEach((x, t) => expect(x).toBeCloseTo(apart[i]?.logprobs[t] as number, 4)));
    model.dispose();
  });

  it('differentiates through the shared prompt exactly as through full sequences', () => {
    const model = tiny(7);
    const p = tok.encode('digits:');
    const rows: PolicyRow[] = [[5, 9, 17], [3], [40, 2, 8, 8]].map((c, i) => ({ promptIds: p, completionIds: c, oldLogprobs: c.map(() => 0), advantage: i - 1 }));
    const weights = rows.map((r) => r.completionIds.map((_, j) => (j + 1) * r.advantage));
    const [mb] = microBatches(rows, weights, 8, tok.pad);
    if (!mb) throw new Error('no micro-batch');
    const vars = model.variables();
    const shared = tf.variableGrads(() => {
      const kept: tf.Tensor[] = [];
      const { logp } = tokenLogprobs(model, mb, tf.tensor2d(mb.targets, [3, 4], 'int32'), 0.7, kept);
      return tf.sum<tf.Scalar>(tf.mul(logp, tf.tensor2d(mb.weights, [3, 4])));
    }, vars);
    const full = tf.variableGrads(() => {
      let total = tf.scalar(0);
      rows.forEach((r, i) => {
        const seq = [...r.promptIds, ...r.completionIds];
        const { logits } = model.forward({ ids: tf.tensor2d([seq.slice(0, -1)], [1, seq.length - 1], 'int32') });
        const lp = tf.logSoftmax(tf.div(logits, 0.7)).reshape([seq.length - 1, tok.vocabSize]);
        r.completionIds.forEach((tokId, j) => {
          total = tf.add(total, tf.mul(lp.slice([r.promptIds.length - 1 + j, tokId], [1, 1]).reshape([]), (weights[i] as number[])[j] as number));
        });
      });
      return total;
    }, vars);
    expect(shared.value.dataSync()[0]).toBeCloseTo(full.value.dataSync()[0] as number, 4);
    for (const name of Object.keys(full.grads)) {
      const a = shared.grads[name]?.dataSync() as Float32Array;
      const b = full.grads[name]?.dataSync() as Float32Array;
      const scale = Math.max(...Array.from(b, Math.abs), 1e-6);
      expect(Math.max(...Array.from(a, (x, i) => Math.abs(x - (b[i] as number)))) / scale, name).toBeLessThan(1e-3);
    }
    model.dispose();
  });

  it('computes the same loss on tensors as the pure function, with micro-batches, masks, sequence-mean and KL', () => {
    const model = tiny(2);
    const ref = tiny(3);
    const rng = new Rng(5);
    const rows: PolicyRow[] = Array.from({ length: 7 }, (_, i) => {
      const n = 2 + rng.int(6);
      return {
        promptIds: tok.encode(i % 2 ? 'digits:' : 'abc d'),
        completionIds: Array.from({ length: n }, () => rng.int(tok.vocabSize)),
        oldLogprobs: Array.from({ length: n }, () => -1 - 4 * rng.float()),
        advantage: i === 5 ? 0 : rng.float() * 2 - 1, // without KL, a zero-advantage row is not run
        trainable: i !== 4,
      };
    });
    for (const over of [{}, { aggregation: 'sequence-mean' as const, beta: 0.1 }]) {
      const c = config(over);
      const learner = new PolicyLearner(model, c, c.beta > 0 ? ref : null, tok.pad);
      const logp = completionLogprobs(model, rows, c.temperature, tok.pad);
      const refLogp = completionLogprobs(ref, rows, c.temperature, tok.pad);
      const expected = policyLoss(
        rows.map((r, i) => ({ logp: logp[i] as number[], oldLogp: r.oldLogprobs, refLogp: refLogp[i] as number[], advantage: r.advantage, mask: r.completionIds.map(() => (r.trainable === false ? 0 : 1)) })),
        c,
      );
      const before = tf.memory().numTensors;
      const stats = learner.update(rows, 1e-3);
      expect(tf.memory().numTensors).toBe(before);
      expect(stats.loss).toBeCloseTo(expected.loss, 4);
      expect(stats.clipFraction).toBeCloseTo(expected.clipFraction, 6);
      expect(stats.kl).toBeCloseTo(expected.kl, 4);
      expect(stats.tokens).toBe(expected.tokens);
      expect(stats.entropy).toBeGreaterThan(0);
      learner.dispose();
    }
    model.dispose();
    ref.dispose();
  });

  it('raises the log-prob of a completion with positive advantage and lowers one with negative', () => {
    const model = tiny(4);
    const p = tok.encode('digits:');
    const good = tok.encode(' 7 7 7');
    const bad = tok.encode(' 1 2 3');
    const rows = (): PolicyRow[] => {
      const lp = completionLogprobs(model, [{ promptIds: p, completionIds: good, oldLogprobs: [], advantage: 0 }, { promptIds: p, completionIds: bad, oldLogprobs: [], advantage: 0 }], 1, tok.pad);
      return [
        { promptIds: p, completionIds: good, oldLogprobs: lp[0] as number[], advantage: 1 },
        { promptIds: p, completionIds: bad, oldLogprobs: lp[1] as number[], advantage: -1 },
      ];
    };
    const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
    const before = rows();
    const learner = new PolicyLearner(model, config({ temperature: 1, mu: 3 }), null, tok.pad);
    learner.update(before, 3e-3);
    const after = rows();
    expect(sum(after[0]?.oldLogprobs as number[])).toBeGreaterThan(sum(before[0]?.oldLogprobs as number[]));
    expect(sum(after[1]?.oldLogprobs as number[])).toBeLessThan(sum(before[1]?.oldLogprobs as number[]));
    learner.dispose();
    model.dispose();
  });
});
