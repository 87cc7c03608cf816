import { describe, expect, it } from 'vitest';
import { checkThinkAnswer } from '../../src/reward/format.js';
import { kkTruth, scoreKK } from '../../src/reward/kk.js';

const row = { names: ['Zoey', 'Oliver'], solution: [true, false], roles: ['knight', 'knave'] };
const good = '<think>Zoey must be a knight…</think><answer>(1) Zoey is a knight\n(2) Oliver is a knave</answer>';
const wrong = '<think>hmm</think><answer>(1) Zoey is a knave\n(2) Oliver is a knave</answer>';
const sample = (completion: string, prompt = 'Q', r: Record<string, unknown> = row) => ({ prompt, completion, row: r });

describe('K&K rewards', () => {
  it.each([
    // [case, completion, prompt, paper (score, status), logic-rl score]
    ['correct', good, 'Q', 2, 'ok', 3],
    ['wrong', wrong, 'Q', -0.5, 'wrong', -0.5],
    ['no tags', '(1) Zoey is a knight (2) Oliver is a knave', 'Q', -2, 'format_error', -3],
    ['two answer blocks', `${good}<answer>(1) Zoey is a knave</answer>`, 'Q', -2, 'format_error', -3],
    ['nested tags', '<think><think>x</think></think><answer>(1) Zoey is a knight (2) Oliver is a knave</answer>', 'Q', -2, 'format_error', -3],
    ['answer before think', '<answer>(1) Zoey is a knight (2) Oliver is a knave</answer><think>x</think>', 'Q', -2, 'format_error', -3],
    ['an empty answer', '<think>x</think><answer> </answer>', 'Q', -2, 'format_error', -1],
    ['a missing islander', '<think>x</think><answer>(1) Zoey is a knight</answer>', 'Q', -2, 'format_error', -1],
    ['an answer inside think only', '<think><answer>(1) Zoey is a knight (2) Oliver is a knave</answer></think>', 'Q', -2, 'format_error', -3],
    ['the opening <think> in the prompt', 'reasoning</think><answer>(1) Zoey is a knight\n(2) Oliver is a knave</answer>', 'Assistant: <think>', 2, 'ok', 3],
  ])('%s', (_, completion, prompt, paperScore, paperStatus, logicScore) => {
    const p = scoreKK(sample(completion, prompt), { scheme: 'paper' });
    expect([p.score, p.status]).toEqual([paperScore, paperStatus]);
    expect(scoreKK(sample(completion, prompt), { scheme: 'logic-rl' }).score).toBe(logicScore);
  });

  it('keeps the breakdown in parts', () => {
    expect(scoreKK(sample(good), { scheme: 'logic-rl' }).parts).toEqual({ format: 1, answer: 2 });
    expect(scoreKK(sample(wrong), { scheme: 'logic-rl' }).reason).toMatch(/wrong about Zoey/);
  });

  it('reads ground truth from Logic-RL rows and unicode names', () => {
    const logicRow = { reward_model: { ground_truth: { solution_text_format: '(1) Zoë is a knight\n(2) Łukasz is a knave' } } };
    expect(kkTruth(logicRow)).toEqual({ names: ['Zoë', 'Łukasz'], solution: [true, false], roles: { truthful: 'knight', liar: 'knave' } });
    const r = scoreKK(sample('<think>x</think><answer>Łukasz is a knave, Zoë is a knight</answer>', 'Q', logicRow));
    expect(r.status).toBe('ok');
  });

  it('is unscorable, not zero, without ground truth; options are checked', () => {
    expect(scoreKK(sample(good, 'Q', {}))).toMatchObject({ score: null, status: 'unscorable' });
    expect(() => scoreKK(sample(good), { scheme: 'mine' })).toThrow(/option 'scheme' must be one of paper, logic-rl/);
    expect(() => scoreKK(sample(good), { schem: 'paper' })).toThrow(/unknown option 'schem'/);
  });

  it('checks the tag structure once each, in order', () => {
    expect(checkThinkAnswer('', '<think>a</think> <answer>b</answer>')).toEqual({ ok: true, think: 'a', answer: 'b' });
    expect(checkThinkAnswer('', '<think>a</think>')).toMatchObject({ ok: false, reason: '<answer> appears 0 times (expected once)' });
  });
});
