import { describe, expect, it } from 'vitest';
import { ROLE_PAIRS } from '../../src/kk/names.js';
import { parseAnswer } from '../../src/kk/parse-answer.js';

const names = ['Zoey', 'Oliver', 'Zoe'];
const kk = ROLE_PAIRS.knights;

describe('parseAnswer', () => {
  it.each([
    ['the canonical form', '<think>…</think><answer>(1) Zoey is a knight\n(2) Oliver is a knave\n(3) Zoe is a knight</answer>', [true, false, true]],
    ['any order and no numbering', '<answer>Zoe is a knight. Oliver is a knave. Zoey is a knight.</answer>', [true, false, true]],
    ['markdown and case noise', '<answer>**Zoey** is a **Knight**, *Oliver* is a KNAVE, `Zoe`: knight</answer>', [true, false, true]],
    ['colon and dash forms', '<answer>Zoey: knight; Oliver - knave; Zoe = knight</answer>', [true, false, true]],
    ['negations', '<answer>Zoey is not a knave, Oliver is not a knight, Zoe is a knight</answer>', [true, false, true]],
    ['the last of two answer blocks', '<answer>Zoey is a knave, Oliver is a knave, Zoe is a knave</answer> wait <answer>Zoey is a knight, Oliver is a knave, Zoe is a knight</answer>', [true, false, true]],
    ['a draft inside <think>', '<think>maybe <answer>Zoey is a knave</answer>?</think> <answer>(1) Zoey is a knight (2) Oliver is a knave (3) Zoe is a knight</answer>', [true, false, true]],
    ['spaced tags', '< answer >Zoey is a knight, Oliver is a knave, Zoe is a knight</ answer >', [true, false, true]],
    ['LaTeX text wrappers', '<answer>\\text{Zoey} is a \\text{knight}, Oliver is a knave, Zoe is a knight</answer>', [true, false, true]],
  ])('reads %s', (_, text, expected) => {
    const r = parseAnswer(text, names, kk);
    expect(r.ok ? r.assignment : r.reason).toEqual(expected);
  });

  it.each([
    ['no tag', 'Zoey is a knight, Oliver is a knave, Zoe is a knight', 'no_answer_tag', /no <answer>/],
    ['an unclosed tag', '<answer>Zoey is a knight', 'unclosed_answer_tag', /never closed/],
    ['an empty answer', '<answer>  **  </answer>', 'empty_answer', /empty/],
    ['a missing person (prefix names do not count)', '<answer>Zoey is a knight, Oliver is a knave</answer>', 'missing_person', /no role given for Zoe$/],
    ['a contradiction', '<answer>Zoey is a knight, Oliver is a knave, Zoe is a knight, Zoey is a knave</answer>', 'conflicting_roles', /Zoey is called both knight and knave/],
    ['unicode look-alike names', '<answer>Zоey is a knight, Oliver is a knave, Zoe is a knight</answer>', 'missing_person', /Zoey/],
  ])('refuses %s with a reason', (_, text, code, reason) => {
    const r = parseAnswer(text, names, kk);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.code).toBe(code);
      expect(r.reason).toMatch(reason);
    }
  });

  it('reads untagged text when told to', () => {
    const r = parseAnswer('(1) Zoey is a knight (2) Oliver is a knave (3) Zoe is a knave', names, kk, { requireTag: false });
    expect(r.ok && r.assignment).toEqual([true, false, false]);
  });

  it('works with other role words and unicode names', () => {
    const r = parseAnswer('<answer>Zoë is a saint, Émile is a sinner</answer>', ['Zoë', 'Émile'], ROLE_PAIRS.saints);
    expect(r.ok && r.assignment).toEqual([true, false]);
  });
});
