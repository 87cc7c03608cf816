// verl's RL rows: the reward is chosen by `data_source` and reads `reward_model.ground_truth`.
import { describe, expect, it } from 'vitest';
import { mathReference } from '../../src/reward/math.js';
import { choiceReference } from '../../src/reward/mc.js';
import { RewardRegistry } from '../../src/reward/registry.js';
import { scoreVerl, verlRouteOf } from '../../src/reward/verl.js';

const row = (data_source: unknown, ground_truth: unknown) => ({ data_source, prompt: [{ role: 'user', content: 'q' }], reward_model: { style: 'rule', ground_truth } });
const sample = (r: Record<string, unknown>, completion: string) => ({ prompt: 'q', completion, row: r });

describe('verl reward', () => {
  it('routes common data sources to the built-in rewards', () => {
    expect(['openai/gsm8k', 'DigitalLearningGmbH/MATH-lighteval', 'HuggingFaceH4/MATH-500', 'agentica-org/DeepScaleR', 'aime24'].map(verlRouteOf)).toEqual(['math', 'math', 'math', 'math', 'math']);
    expect(['kk_logic', 'knights-and-knaves'].map(verlRouteOf)).toEqual(['kk', 'kk']);
    expect(['TIGER-Lab/MMLU-Pro', 'Idavidrein/gpqa'].map(verlRouteOf)).toEqual(['mc', 'mc']);
    expect(verlRouteOf('codecontests')).toBeNull();
  });

  it('scores math against reward_model.ground_truth, and says which reward it used', () => {
    expect(scoreVerl(sample(row('openai/gsm8k', '72'), 'so \\boxed{72}'))).toMatchObject({ status: 'ok', score: 1, parts: { math: 1 } });
    expect(scoreVerl(sample(row('DigitalLearningGmbH/MATH-lighteval', '\\frac{3}{4}'), '\\boxed{0.75}'))).toMatchObject({ status: 'ok' });
    expect(scoreVerl(sample(row('openai/gsm8k', '72'), '\\boxed{71}'))).toMatchObject({ status: 'wrong', score: 0 });
    expect(scoreVerl(sample(row('TIGER-Lab/MMLU-Pro', 'C'), 'The answer is \\boxed{C}'))).toMatchObject({ status: 'ok', parts: { mc: 1 } });
    const kk = { ...row('kk_logic', { solution_text_format: '(1) Zoey is a knight\n(2) Oliver is a knave' }) };
    expect(scoreVerl(sample(kk, '<think>x</think><answer>(1) Zoey is a knight\n(2) Oliver is a knave</answer>'))).toMatchObject({ status: 'ok' });
  });

  it('is unscorable, with the reason, for a source it does not know or a row without one', () => {
    expect(scoreVerl(sample(row('codecontests', '[]'), 'x'))).toMatchObject({ status: 'unscorable', score: null, reason: 'no built-in reward for data_source "codecontests" (known: K&K, math, multiple choice); name one with --reward' });
    expect(scoreVerl(sample({ prompt: 'q' }, 'x'))).toMatchObject({ status: 'unscorable', reason: "the row has no string 'data_source' to route by" });
    expect(() => scoreVerl(sample(row('openai/gsm8k', '1'), 'x'), { scheme: 'paper' })).toThrow(/reward 'verl'/);
  });

  it('is a built-in, and the math and mc references fall back to the ground truth', async () => {
    expect((await new RewardRegistry().load('verl')).id).toBe('verl');
    expect(mathReference(row('x', '12'))).toBe('12');
    expect(mathReference(row('x', 12))).toBe('12');
    expect(mathReference({ answer: '3', ...row('x', '12') })).toBe('3');
    expect(mathReference(row('x', ''))).toBeNull();
    expect(choiceReference(row('x', ' B '))).toBe('B');
    expect(choiceReference(row('x', 'banana'))).toBeNull();
  });
});
