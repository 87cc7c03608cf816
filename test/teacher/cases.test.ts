import { describe, expect, it } from 'vitest';
import { generatePuzzles, makeKKConfig } from '../../src/kk/generator.js';
import { parseRolePair } from '../../src/kk/names.js';
import type { Puzzle } from '../../src/kk/puzzle.js';
import { knave, knight, or } from '../../src/kk/statement.js';
import { scoreKK } from '../../src/reward/kk.js';
import { casesTrace } from '../../src/teacher/cases.js';
import { makeSymbolicTeacher } from '../../src/teacher/symbolic.js';

const verdict = (p: Puzzle, trace: string) =>
  scoreKK({ prompt: '', completion: trace, row: { names: [...p.names], solution: [...p.solution], roles: [p.roles.truthful, p.roles.liar] } });

describe('case-checking teacher', () => {
  it('ends in the solution on every generated puzzle of 2–5 people', () => {
    const puzzles = [...generatePuzzles({ people: [2], count: 399, seed: 5 }), ...generatePuzzles({ people: [3, 4, 5], count: 1500, seed: 5 })];
    const bad = puzzles.filter((p) => verdict(p, casesTrace(p)).status !== 'ok').map((p) => p.id);
    expect(bad).toEqual([]);
  });

  it('checks cases in order, notes each part\'s truth, and stops at the first case that fits', () => {
    // Zoey: "Oliver is a knave." Oliver: "Zoey is a knight or Oliver is a knight." Solution: Zoey knave, Oliver knight.
    const p: Puzzle = {
      id: 'hand', names: ['Zoey', 'Oliver'], roles: { truthful: 'knight', liar: 'knave' },
      statements: [knave(1), or(knight(0), knight(1))], solution: [false, true],
    } as unknown as Puzzle;
    expect(casesTrace(p)).toBe(
      [
        '<think>Let me check each case.',
        'Zoey says: Oliver is a knave.',
        'Oliver says: Zoey is a knight or Oliver is a knight.',
        'Case: Zoey knight, Oliver knight.',
        'Zoey knight: Oliver is a knave (false), false. Fails.',
        'Case: Zoey knight, Oliver knave.',
        'Zoey knight: Oliver is a knave (true), true. Fits.',
        'Oliver knave: Zoey is a knight (true) or Oliver is a knight (false), true. Fails.',
        'Case: Zoey knave, Oliver knight.',
        'Zoey knave: Oliver is a knave (false), false. Fits.',
        'Oliver knight: Zoey is a knight (false) or Oliver is a knight (true), true. Fits.',
        'All fit.',
        '</think>',
        '<answer>(1) Zoey is a knave',
        '(2) Oliver is a knight</answer>',
      ].join('\n'),
    );
    expect(casesTrace(p, false)).not.toMatch(/^<think>/);
  });

  it('numbered: names the islanders once, then checks with their numbers, and answers with names', async () => {
    const p: Puzzle = {
      id: 'hand', names: ['Zoey', 'Oliver'], roles: { truthful: 'knight', liar: 'knave' },
      statements: [knave(1), or(knight(0), knight(1))], solution: [false, true],
    } as unknown as Puzzle;
    const trace = casesTrace(p, true, true);
    expect(trace.split('\n').slice(0, 6)).toEqual([
      '<think>Let me check each case.',
      'Number them: Zoey 1, Oliver 2.',
      '1 says: 2 is a knave.',
      '2 says: 1 is a knight or 2 is a knight.',
      'Case: 1 knight, 2 knight.',
      '1 knight: 2 is a knave (false), false. Fails.',
    ]);
    expect(trace).toMatch(/<answer>\(1\) Zoey is a knave\n\(2\) Oliver is a knight<\/answer>$/);
    const puzzles = [...generatePuzzles({ people: [2, 3, 4], count: 600, seed: 6 })];
    expect(puzzles.filter((q) => verdict(q, casesTrace(q, true, true)).status !== 'ok').map((q) => q.id)).toEqual([]);
    const [s] = await makeSymbolicTeacher({ style: 'numbered' }).sample('User: quiz\nAssistant:', { n: 1, maxTokens: 1000, temperature: 0, topP: 1, stop: [] }, p);
    expect(s?.text).toBe(trace);
  });

  it('uses the puzzle\'s role words and is what the symbolic teacher writes with style cases', async () => {
    const config = makeKKConfig({ roles: parseRolePair('saints') });
    const [p] = [...generatePuzzles({ people: [3], count: 1, seed: 2, config })] as Puzzle[];
    const teacher = makeSymbolicTeacher({ style: 'cases' });
    const [s] = await teacher.sample('User: quiz\nAssistant:', { n: 1, maxTokens: 1000, temperature: 0, topP: 1, stop: [] }, p);
    expect(s?.text).toBe(casesTrace(p as Puzzle));
    expect(s?.text).toMatch(/Case: \w+ (saint|sinner)/);
    expect(verdict(p as Puzzle, s?.text as string).status).toBe('ok');
  });
});
