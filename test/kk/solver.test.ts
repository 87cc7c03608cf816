import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countSolutions, solve, uniqueSolution } from '../../src/kk/solver.js';
import { evaluate, iff, knave, knight, not, type Statement } from '../../src/kk/statement.js';

/** Random statement trees over n people, up to the given depth. */
function statementArb(n: number, depth: number): fc.Arbitrary<Statement> {
  const leaf = fc.record({ op: fc.constantFrom('knight' as const, 'knave' as const), who: fc.integer({ min: 0, max: n - 1 }) });
  if (depth <= 1) return leaf;
  const sub = statementArb(n, depth - 1);
  return fc.oneof(
    leaf,
    sub.map((arg): Statement => ({ op: 'not', arg })),
    fc.record({ op: fc.constantFrom('and' as const, 'or' as const), args: fc.array(sub, { minLength: 2, maxLength: 3 }) }),
    fc.record({ op: fc.constantFrom('implies' as const, 'iff' as const), args: fc.tuple(sub, sub) }),
  );
}

const puzzleArb = fc
  .integer({ min: 1, max: 9 })
  .chain((n) => fc.tuple(fc.constant(n), fc.array(statementArb(n, 3), { minLength: n, maxLength: n })));

/** Brute force: try every assignment and evaluate each statement recursively. */
function bruteForce(n: number, statements: readonly Statement[]): boolean[][] {
  const out: boolean[][] = [];
  for (let a = 0; a < 1 << n; a++) {
    const knights = Array.from({ length: n }, (_, i) => ((a >> i) & 1) === 1);
    if (statements.every((s, i) => evaluate(s, knights) === knights[i])) out.push(knights);
  }
  return out;
}

describe('solver', () => {
  it('finds exactly the assignments brute force finds (property)', () => {
    fc.assert(
      fc.property(puzzleArb, ([n, statements]) => {
        expect(solve(n, statements)).toEqual(bruteForce(n, statements));
        expect(countSolutions(n, statements)).toBe(bruteForce(n, statements).length);
      }),
      { numRuns: 600, seed: 20261122 },
    );
  });

  it('handles 12 and more people', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 10, max: 13 }).chain((n) => fc.tuple(fc.constant(n), fc.array(statementArb(n, 2), { minLength: n, maxLength: n }))),
        ([n, statements]) => {
          expect(solve(n, statements)).toEqual(bruteForce(n, statements));
        },
      ),
      { numRuns: 25, seed: 7 },
    );
  });

  it('solves a classic puzzle and reports paradoxes', () => {
    // A: "B is a knave."  B: "A and I are of the same kind."  → A knight, B knave.
    expect(uniqueSolution(2, [knave(1), iff(knight(0), knight(1))])).toEqual([true, false]);
    // "I am not a knight" has no consistent assignment.
    expect(solve(1, [not(knight(0))])).toEqual([]);
    // "I am a knight" has two.
    expect(countSolutions(1, [knight(0)])).toBe(2);
    expect(uniqueSolution(1, [knight(0)])).toBeNull();
  });

  it('stops counting at stopAt', () => {
    expect(countSolutions(3, [knight(0), knight(1), knight(2)], 2)).toBe(2);
  });

  it('rejects bad sizes with the numbers', () => {
    expect(() => solve(2, [knight(0)])).toThrow(/one statement per person \(2\), got 1/);
    expect(() => solve(0, [])).toThrow(/1\.\.24 people, got 0/);
  });
});
