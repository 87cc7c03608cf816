import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lastBoxed, mathEquivalent, scoreMath } from '../../src/reward/math.js';
import { ROOT, sharedDataset } from '../helpers.js';

describe('lastBoxed', () => {
  it.each([
    ['\\boxed{5}', '5'],
    ['a \\boxed{1} then \\boxed{\\frac{1}{2}}', '\\frac{1}{2}'],
    ['\\boxed{\\{1, {2}\\}}', '\\{1, {2}\\}'],
    ['\\boxed 7.', '7.'],
    ['\\fbox{x}', 'x'],
    ['no box', null],
    ['\\boxed{unclosed', null],
  ])('%s → %s', (text, expected) => expect(lastBoxed(text)).toBe(expected));
});

describe('mathEquivalent', () => {
  it.each([
    ['\\frac{1}{2}', '0.5'],
    ['\\dfrac{3}{4}', '\\frac34'],
    ['\\frac{\\sqrt{3}}{2}', '\\frac{1}{2}\\sqrt{3}'],
    ['2\\sqrt{3}', '\\sqrt{12}'],
    ['\\pi', '\\pi'],
    ['2\\pi', '\\pi \\cdot 2'],
    ['90^\\circ', '90'],
    ['(1, -2)', '\\left(1,-2\\right)'],
    ['[2, 5)', '[2,5)'],
    ['\\{1, 2, 3\\}', '\\{3, 1, 2\\}'],
    ['\\text{Monday}', '\\text{monday}'],
    ['x = 5', '5'],
    ['1,000', '1000'],
    ['10\\%', '10'],
    ['5\\text{ cm}', '5'],
    ['0.333333333', '\\frac{1}{3}'],
    ['$4$', '4'],
  ])('%s ≡ %s', (a, b) => expect(mathEquivalent(a, b)).toBe(true));

  it.each([
    ['\\frac{1}{2}', '\\frac{1}{3}'],
    ['[2, 5)', '(2, 5)'],
    ['(1, 2)', '(2, 1)'],
    ['\\pi', '3.14'],
    ['\\text{Monday}', '\\text{Tuesday}'],
    ['-\\infty', '\\infty'],
    ['2', '2x'],
    ['', '0'],
  ])('%s ≢ %s', (a, b) => expect(mathEquivalent(a, b)).toBe(false));
});

describe('math reward', () => {
  const row = { answer: '\\frac{1}{2}' };
  it.each([
    ['a correct boxed answer', 'so \\boxed{0.5}', 1, 'ok'],
    ['a wrong one', '\\boxed{2}', 0, 'wrong'],
    ['two boxes: the last counts', '\\boxed{0.5} no wait \\boxed{3}', 0, 'wrong'],
    ['no box', 'the answer is 1/2', 0, 'format_error'],
    ['a box inside <think>', '<think>\\boxed{1/2}</think> final: \\boxed{\\frac12}', 1, 'ok'],
    ['an empty box', '\\boxed{}', 0, 'wrong'],
  ])('%s', (_, completion, score, status) => {
    expect(scoreMath({ prompt: '', completion, row })).toMatchObject({ score, status });
  });

  it('takes the reference from the solution when there is no answer column, and honours options', () => {
    expect(scoreMath({ prompt: '', completion: '\\boxed{7}', row: { solution: 'thus \\boxed{7}.' } }, { correct: 2, wrong: -1 }).score).toBe(2);
    expect(scoreMath({ prompt: '', completion: '\\boxed{7}', row: {} })).toMatchObject({ score: null, status: 'unscorable' });
  });
});

describe('MATH-500 (3 committed rows)', () => {
  it("judges each reference answer equivalent to the boxed answer of its own solution, and not to another row's", () => {
    const rows = readFileSync(join(ROOT, 'test', 'fixtures', 'tasks', 'math500.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { solution: string; answer: string });
    expect(rows).toHaveLength(3);
    for (const [i, r] of rows.entries()) {
      expect(mathEquivalent(lastBoxed(r.solution) as string, r.answer), r.answer).toBe(true);
      expect(mathEquivalent((rows[(i + 1) % 3] as { answer: string }).answer, r.answer)).toBe(false);
    }
  });
});

const math500 = sharedDataset('math500/test.jsonl');
describe.skipIf(math500 === null)('MATH-500 (../shared)', () => {
  // The describe body runs even when skipped, so read only when the file is there.
  const rows = math500
    ? readFileSync(math500, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { problem: string; solution: string; answer: string })
    : [];

  it('judges every reference answer equivalent to the boxed answer of its own solution (≥ 99%)', () => {
    let agree = 0;
    const misses: string[] = [];
    for (const r of rows) {
      const boxed = lastBoxed(r.solution);
      if (boxed !== null && mathEquivalent(boxed, r.answer)) agree++;
      else misses.push(`${String(boxed)} vs ${r.answer}`);
    }
    console.log(`MATH-500 agreement: ${agree}/${rows.length} (${((100 * agree) / rows.length).toFixed(1)}%)`);
    expect(agree / rows.length).toBeGreaterThanOrEqual(0.99);
  });

  it('still agrees when the answers are re-typeset, and tells different answers apart', () => {
    const retype = (s: string): string => `$${s.replace(/\\frac/g, '\\dfrac').replace(/,/g, ', ').replace(/\(/g, '\\left(').replace(/\)/g, '\\right)')}$`;
    let agree = 0;
    let distinct = 0;
    let told = 0;
    rows.forEach((r, i) => {
      if (mathEquivalent(retype(r.answer), r.answer)) agree++;
      const other = (rows[(i + 7) % rows.length] as { answer: string }).answer;
      if (other.replace(/\s/g, '') !== r.answer.replace(/\s/g, '')) {
        distinct++;
        if (!mathEquivalent(other, r.answer)) told++;
      }
    });
    console.log(`MATH-500 re-typeset agreement ${agree}/${rows.length}; different answers told apart ${told}/${distinct}`);
    expect(agree / rows.length).toBeGreaterThanOrEqual(0.98);
    expect(told / distinct).toBeGreaterThanOrEqual(0.98);
  });
});
