import { describe, expect, it } from 'vitest';
import {
  countStatements,
  enumerateStatements,
  enumerateUniquePuzzles,
  generatePuzzles,
  KKExhaustedError,
  makeKKConfig,
  makePuzzle,
  sampleStatements,
  splitCount,
  structureKey,
} from '../../src/kk/generator.js';
import type { Puzzle } from '../../src/kk/puzzle.js';
import { parseRolePair } from '../../src/kk/names.js';
import { countSolutions } from '../../src/kk/solver.js';
import { statementDepth, statementKey, type Statement } from '../../src/kk/statement.js';

const take = (n: number, people: number[], seed: number, config = makeKKConfig()) => [
  ...generatePuzzles({ people, count: n, seed, config }),
];

/** Whether person `self` ever says "self is a knave" anywhere in the tree. */
function saysIAmLying(s: Statement, self: number): boolean {
  if (s.op === 'knave') return s.who === self;
  if (s.op === 'knight') return false;
  if (s.op === 'not') return saysIAmLying(s.arg, self);
  return s.args.some((a) => saysIAmLying(a, self));
}

describe('generator', () => {
  it('is deterministic: the same seed gives the same puzzles, another seed others', () => {
    const a = take(60, [3, 5, 7], 11);
    const b = take(60, [3, 5, 7], 11);
    const c = take(60, [3, 5, 7], 12);
    expect(a).toEqual(b);
    expect(a.map((p) => p.id)).not.toEqual(c.map((p) => p.id));
  });

  it('keeps only unique-solution, distinct puzzles, with their solution', () => {
    const puzzles = take(1000, [2, 3, 4, 5, 6, 7, 8], 5);
    expect(puzzles).toHaveLength(1000);
    const keys = new Set<string>();
    for (const p of puzzles) {
      const n = p.names.length;
      expect(countSolutions(n, p.statements)).toBe(1);
      const key = `${n}|${p.statements.map(statementKey).join(';')}`;
      expect(keys.has(key)).toBe(false);
      keys.add(key);
      expect(new Set(p.names).size).toBe(n);
      p.statements.forEach((s, i) => expect(saysIAmLying(s, i)).toBe(false));
    }
    expect(new Set(puzzles.map((p) => p.id)).size).toBe(1000);
  });

  it('splits the count evenly across sizes, in order', () => {
    expect(splitCount(10, [3, 4, 5])).toEqual([4, 3, 3]);
    const sizes = take(10, [3, 4, 5], 1).map((p) => p.names.length);
    expect(sizes).toEqual([3, 3, 3, 3, 4, 4, 4, 5, 5, 5]);
  });

  it('respects depth and width', () => {
    for (const [depth, width] of [[1, 2], [2, 2], [3, 3], [4, 2]] as const) {
      const config = makeKKConfig({ depth, width });
      for (let seed = 0; seed < 300; seed++) {
        for (const s of sampleStatements(seed, 4, config)) {
          expect(statementDepth(s)).toBeLessThanOrEqual(depth);
          const visit = (x: Statement): void => {
            if (x.op === 'and' || x.op === 'or') expect(x.args.length).toBeLessThanOrEqual(width);
            if (x.op === 'not') visit(x.arg);
            else if ('args' in x) x.args.forEach(visit);
          };
          visit(s);
        }
      }
    }
  });

  it('counts the finite N=2 space exactly: 399 unique-solution puzzles, as the K&K authors found', () => {
    expect(countStatements(2, 2, 2)).toBe(30);
    expect(enumerateStatements(0, 2, 2, 2)).toHaveLength(30);
    expect(enumerateStatements(1, 3, 2, 3)).toHaveLength(countStatements(3, 2, 3));
    expect(enumerateStatements(2, 3, 3, 2)).toHaveLength(countStatements(3, 3, 2));
    expect(enumerateUniquePuzzles(2, makeKKConfig())).toHaveLength(399);
    // All 399 can be had, and they are distinct.
    const all = take(399, [2], 3);
    expect(new Set(all.map((p) => p.statements.map(statementKey).join(';'))).size).toBe(399);
  });

  it('fails fast, with the true number, when more puzzles are asked for than exist', () => {
    const t0 = performance.now();
    let error: unknown;
    try {
      take(400, [2], 3);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(KKExhaustedError);
    expect((error as KKExhaustedError).available).toBe(399);
    expect(String(error)).toMatch(/only 399 distinct puzzles .* N=2 .* asked for 400/);
    expect(performance.now() - t0).toBeLessThan(5000);
    // One islander: only "I am a knight" exists, with two solutions, so nothing at all.
    expect(() => take(1, [1], 0)).toThrow(/only 0 distinct puzzles/);
  });

  it('never yields an excluded puzzle, and replaces it so the count holds (sampled and enumerated sizes)', () => {
    for (const [people, count] of [[[3], 40], [[2], 200]] as const) {
      const first = take(count, [...people], 5);
      const exclude = new Set(first.filter((_, i) => i % 2 === 0).map((p) => p.id));
      const again = [...generatePuzzles({ people, count, seed: 5, exclude })];
      expect(again).toHaveLength(count);
      expect(again.filter((p) => exclude.has(p.id))).toEqual([]);
      expect(new Set(again.map((p) => p.id)).size).toBe(count);
      // Nothing excluded: the same puzzles as without the option.
      expect([...generatePuzzles({ people, count, seed: 5, exclude: new Set() })]).toEqual(first);
    }
    // The N=2 space holds 399: excluding 300 of them leaves too few for 300.
    const all = take(399, [2], 1);
    expect(() => [...generatePuzzles({ people: [2], count: 300, seed: 1, exclude: new Set(all.slice(0, 300).map((p) => p.id)) })]).toThrow(/only \d+ distinct puzzles for N=2 .* outside the 300 excluded; asked for 300/);
  });

  it('with repeat, uses every allowed structure once per round under fresh names, past the distinct count', () => {
    const held = take(150, [2], 3);
    const exclude = new Set(held.map((p) => structureKey(p.statements)));
    const run = () => [...generatePuzzles({ people: [2, 3], count: 249 * 3 + 10, counts: [249 * 3, 10], seed: 4, exclude, repeat: true })];
    const out = run();
    const two = out.filter((p) => p.names.length === 2);
    expect(two).toHaveLength(747);
    expect(new Set(out.map((p) => p.id)).size).toBe(out.length);
    expect(two.filter((p) => exclude.has(structureKey(p.statements)))).toEqual([]);
    // Each round is a full pass: every allowed structure exactly three times.
    const uses = new Map<string, number>();
    for (const p of two) uses.set(structureKey(p.statements), (uses.get(structureKey(p.statements)) ?? 0) + 1);
    expect(uses.size).toBe(249);
    expect(new Set(uses.values())).toEqual(new Set([3]));
    expect(run()).toEqual(out);
    // Sizes with room for distinct puzzles are unchanged by the option.
    const three = (repeat: boolean) => [...generatePuzzles({ people: [2, 3], count: 110, counts: [100, 10], seed: 4, exclude, repeat })].filter((p) => p.names.length === 3);
    expect(three(true)).toEqual(three(false));
  });

  it('excludes a structure under any names: another seed renames the same claims, and none of them comes back', () => {
    const held = take(150, [2], 3);
    const exclude = new Set(held.map((p) => structureKey(p.statements)));
    // 249 of the 399 N=2 structures remain; another seed draws them all, with other names, and only them.
    const rest = [...generatePuzzles({ people: [2], count: 249, seed: 4, exclude })];
    expect(rest.filter((p) => exclude.has(structureKey(p.statements)))).toEqual([]);
    expect(new Set(rest.map((p) => structureKey(p.statements))).size).toBe(249);
    expect(() => [...generatePuzzles({ people: [2], count: 250, seed: 4, exclude })]).toThrow(/distinct puzzles|stalled/);
    // 3 people: the same structure under other names is a different id but the same key.
    const a = take(1, [3], 8)[0] as Puzzle;
    const renamed = makePuzzle(99, a.statements, a.solution);
    expect(renamed.id).not.toBe(a.id);
    expect(structureKey(renamed.statements)).toBe(structureKey(a.statements));
  });

  it('uses the configured names, roles and frames', () => {
    const config = makeKKConfig({
      names: ['Ana', 'Bo', 'Cy'],
      roles: parseRolePair('saint/sinner'),
      templates: ['{name} whispers, "{statement}."'],
    });
    const [p] = take(1, [3], 9, config);
    expect(p?.quiz).toMatch(/^A very special island is inhabited only by saints and sinners\. Saints always tell the truth, and sinners always lie\./);
    expect(p?.quiz).toMatch(/whispers, "/);
    expect(p?.quiz).toMatch(/So who is a saint and who is a sinner\?$/);
    expect([...(p?.names ?? [])].sort()).toEqual(['Ana', 'Bo', 'Cy']);
    expect(p?.solutionTextFormat).toMatch(/^\(1\) \w+ is a s(aint|inner)\n\(2\)/);
  });

  it('rejects bad configs and sizes with clear messages', () => {
    expect(() => makeKKConfig({ depth: 0 })).toThrow(/depth must be 1\.\.6/);
    expect(() => makeKKConfig({ names: ['Ann', 'Ann'] })).toThrow(/duplicates/);
    expect(() => makeKKConfig({ names: ['ann'] })).toThrow(/capitalised/);
    expect(() => makeKKConfig({ templates: ['{name} says nothing'] })).toThrow(/exactly one \{name\} and one \{statement\}/);
    expect(() => take(1, [17], 0)).toThrow(/people must be 1\.\.16/);
    expect(() => take(1, [4], 0, makeKKConfig({ names: ['Ann', 'Bo', 'Cy'] }))).toThrow(/4 islanders need 4 distinct names/);
    expect(() => parseRolePair('knight')).toThrow(/truthful\/liar/);
  });
});
