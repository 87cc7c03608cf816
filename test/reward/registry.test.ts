import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkResult, composeResults } from '../../src/reward/compose.js';
import { applyWeights, RewardRegistry, resolveRewardSpecs } from '../../src/reward/registry.js';
import { extractChoice, scoreChoice } from '../../src/reward/mc.js';
import { buildProgram, extractCode } from '../../src/reward/code.js';
import { ROOT } from '../helpers.js';

const fixture = (name: string): string => join(ROOT, 'test/fixtures/rewards', `${name}.mjs`);

describe('registry', () => {
  it('resolves built-ins and module paths, and refuses unknown or repeated ids', () => {
    expect(resolveRewardSpecs([{ ref: 'kk' }, { ref: 'test/fixtures/rewards/length.mjs' }], ROOT).map((s) => s.ref)).toEqual(['kk', fixture('length')]);
    expect(() => resolveRewardSpecs([{ ref: 'kkk' }])).toThrow(/unknown reward 'kkk': use one of kk, math, mc, code/);
    expect(() => resolveRewardSpecs([{ ref: 'kk' }, { ref: 'kk' }])).toThrow(/listed twice/);
    expect(() => resolveRewardSpecs([])).toThrow(/at least one reward/);
    // A built-in's options are checked here, before any sample is scored.
    expect(() => resolveRewardSpecs([{ ref: 'mc', options: { read: 'strict' } }])).toThrow(/reward 'mc': option 'read' must be one of any, tagged, boxed, option, got "strict"/);
    expect(() => resolveRewardSpecs([{ ref: 'code', options: { timeout: 5 } }])).toThrow(/code.*timeout/);
    for (const [ref, options] of [['kk', { scheme: 'logic-rl' }], ['math', { tolerance: 0.1 }], ['code', { language: 'javascript' }], ['verl', {}], ['mc', { read: 'boxed' }]] as const) {
      expect(resolveRewardSpecs([{ ref, options }])[0]?.options).toEqual(options);
    }
  });

  it('checks weights against the number of rewards', () => {
    expect(applyWeights([{ ref: 'kk' }, { ref: 'math' }], [1, 0.5]).map((s) => s.weight)).toEqual([1, 0.5]);
    expect(() => applyWeights([{ ref: 'kk' }, { ref: 'math' }], [1])).toThrow(/1 weights given for 2 rewards/);
    expect(() => resolveRewardSpecs([{ ref: 'kk', weight: Number.NaN }])).toThrow(/weight must be a finite number/);
  });

  it('loads custom modules once and refuses one that reuses a built-in id', async () => {
    const r = new RewardRegistry();
    const m = await r.load(fixture('length'));
    expect(m.id).toBe('length');
    expect(await r.load(fixture('length'))).toBe(m);
    await expect(r.load(fixture('dup-kk'))).rejects.toThrow(/duplicate reward id 'kk'/);
    await expect(r.load(fixture('not-a-reward'))).rejects.toThrow(/must export a non-empty string 'id'/);
    await expect(r.load('/nonexistent/reward.mjs')).rejects.toThrow(/cannot load reward module/);
  });
});

describe('composition', () => {
  const ok = (score: number) => ({ score, status: 'ok' as const, parts: { a: score }, reason: null });
  it('sums weighted scores and keeps every part', () => {
    const r = composeResults([
      { id: 'kk', weight: 1, result: ok(2) },
      { id: 'len', weight: 0.5, result: { score: 0.4, status: 'wrong', parts: {}, reason: 'long' } },
    ]);
    expect(r).toEqual({ score: 2.2, status: 'wrong', parts: { kk: 2, 'kk.a': 2, len: 0.4 }, reason: 'len: long' });
  });

  it('is null when any part cannot be scored, never a silent 0', () => {
    const r = composeResults([
      { id: 'kk', weight: 1, result: ok(2) },
      { id: 'code', weight: 1, result: { score: null, status: 'timeout', parts: {}, reason: 'slow' } },
    ]);
    expect(r).toMatchObject({ score: null, status: 'timeout' });
  });

  it.each([
    [{ score: Number.NaN, status: 'ok', parts: {} }, /score NaN/],
    [{ score: 1, status: 'great', parts: {} }, /status "great"/],
    [{ score: null, status: 'ok', parts: {} }, /null score with status 'ok'/],
    ['yes', /returned string/],
    [null, /returned null/],
  ])('turns a bad result into crashed: %j', (bad, reason) => {
    const r = checkResult('x', bad);
    expect(r.status).toBe('crashed');
    expect(r.reason).toMatch(reason);
  });
});

describe('multiple choice', () => {
  it.each([
    ['The answer is \\boxed{C}.', 'C'],
    ['<answer>B</answer>', 'B'],
    ['I pick (D) because…', 'D'],
    ['\\boxed{\\text{(E)}}', 'E'],
    ['A or B? Finally: J', 'J'],
    ['\\boxed{B} but <answer>C</answer>', 'B'],
    ['no letter here', null],
  ])('%s → %s', (text, letter) => expect(extractChoice(text)?.letter ?? null).toBe(letter));

  it('scores against answer or answer_index', () => {
    expect(scoreChoice({ prompt: '', completion: '\\boxed{C}', row: { answer: 'C' } }).status).toBe('ok');
    expect(scoreChoice({ prompt: '', completion: '\\boxed{C}', row: { answer_index: 2 } }).score).toBe(1);
    expect(scoreChoice({ prompt: '', completion: '\\boxed{A}', row: { answer: 'C' } })).toMatchObject({ score: 0, status: 'wrong' });
    expect(scoreChoice({ prompt: '', completion: 'hmm', row: { answer: 'C' } }).status).toBe('format_error');
    expect(scoreChoice({ prompt: '', completion: 'C', row: {} })).toMatchObject({ score: null, status: 'unscorable' });
  });

  it('with read=boxed or tagged, ignores letters scattered through the text (the gamed fallback)', () => {
    // A completion from replication v3's RL-trained warm model: K&K lines with "(C)" among them.
    const gamed = ': 1 is a knight (true), true. Fits. (1) Miles is a knight</answer>. (2), 3(. (3) … (C), 2(.';
    const row = { answer: 'C' };
    expect(scoreChoice({ prompt: '', completion: gamed, row }).status).toBe('ok');
    expect(scoreChoice({ prompt: '', completion: gamed, row }, { read: 'boxed' })).toMatchObject({ score: 0, status: 'format_error', reason: 'no answer letter A–J found in \\boxed{}' });
    expect(scoreChoice({ prompt: '', completion: gamed, row }, { read: 'tagged' }).status).toBe('format_error');
    expect(scoreChoice({ prompt: '', completion: 'so <answer>C</answer>', row }, { read: 'tagged' }).status).toBe('ok');
    expect(scoreChoice({ prompt: '', completion: 'so <answer>C</answer>', row }, { read: 'boxed' }).status).toBe('format_error');
    expect(scoreChoice({ prompt: '', completion: 'it is \\boxed{C}', row }, { read: 'boxed' }).status).toBe('ok');
    expect(() => scoreChoice({ prompt: '', completion: 'C', row }, { read: 'loose' })).toThrow(/option 'read' must be one of any, tagged, boxed, option, got "loose"/);
  });

  it("with read=option, takes a boxed option text for its letter, and nothing outside the box", () => {
    const row = { options: ['brown', 'red', 'light blue', 'green'], answer: 'C' };
    const score = (completion: string): unknown => scoreChoice({ prompt: '', completion, row }, { read: 'option' });
    expect(score(' \\boxed{light blue}')).toMatchObject({ status: 'ok', score: 1 });
    expect(score(' \\boxed{ Light  Blue }')).toMatchObject({ status: 'ok' });
    expect(score(' \\boxed{C}')).toMatchObject({ status: 'ok' });
    expect(score(' \\boxed{red}')).toMatchObject({ status: 'wrong', score: 0, reason: 'chose B (from boxed), answer is C' });
    // Not an option, or not in a box: a format error, never a guess.
    expect(score(' \\boxed{blue}')).toMatchObject({ status: 'format_error', reason: "no answer letter A–J found in \\boxed{} (a letter or an option's text)" });
    expect(score('it is light blue (C)')).toMatchObject({ status: 'format_error' });
    expect(scoreChoice({ prompt: '', completion: '\\boxed{red}', row: { answer: 'B' } }, { read: 'option' })).toMatchObject({ status: 'unscorable', reason: "read 'option' needs the row's options as a list of strings" });
    expect(extractChoice('\\boxed{green}', 'option', row.options)).toEqual({ letter: 'D', from: 'boxed' });
    expect(extractChoice('\\boxed{green}', 'boxed', row.options)).toBeNull();
  });

  it('by default (read=any), also takes a boxed option text, before falling back to letters elsewhere', () => {
    const row = { options: ['brown', 'red', 'light blue', 'green'], answer: 'C' };
    const score = (completion: string): unknown => scoreChoice({ prompt: '', completion, row });
    expect(score(' \\boxed{ light blue}')).toMatchObject({ status: 'ok', score: 1 });
    expect(score(' \\boxed{green}')).toMatchObject({ status: 'wrong', reason: 'chose D (from boxed), answer is C' });
    // A boxed text that is no option falls through to the letter fallbacks, as before.
    expect(score('(C) \\boxed{blue}')).toMatchObject({ status: 'ok' });
    expect(score(' \\boxed{blue}')).toMatchObject({ status: 'format_error' });
    // Without options in the row, only letters count.
    expect(scoreChoice({ prompt: '', completion: '\\boxed{red}', row: { answer: 'B' } })).toMatchObject({ status: 'format_error' });
  });
});

describe('code extraction', () => {
  it('takes the last fenced block and its language', () => {
    expect(extractCode('a\n```python\nx = 1\n```\nthen\n```js\nlet y = 2;\n```\n')).toEqual({ code: 'let y = 2;\n', tag: 'js' });
    expect(extractCode('def f(): pass')).toEqual({ code: 'def f(): pass', tag: null });
  });

  it('completes a body with the prompt, and keeps the prompt imports for a full function', () => {
    const row = { prompt: 'from typing import List\n\ndef f(xs: List[int]) -> int:\n', entry_point: 'f' };
    expect(buildProgram('    return sum(xs)\n', row, 'python')).toBe(`${row.prompt}    return sum(xs)\n`);
    expect(buildProgram('def f(xs):\n    return 0\n', row, 'python')).toBe('from typing import List\ndef f(xs):\n    return 0\n');
  });
});
