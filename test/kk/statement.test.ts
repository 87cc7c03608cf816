import { describe, expect, it } from 'vitest';
import {
  and,
  evaluate,
  iff,
  implies,
  knave,
  knight,
  not,
  or,
  parsePythonTuple,
  statementFromTuple,
  StatementFormatError,
  statementsFromText,
  statementsToJSON,
  statementToTuple,
} from '../../src/kk/statement.js';

describe('statement encoding', () => {
  it('round-trips through the K&K tuple form and JSON', () => {
    const s = [iff(knight(2), knave(0)), or(knight(1), not(knave(2))), implies(and(knight(0), knave(1)), knight(2))];
    const json = statementsToJSON(s);
    expect(JSON.parse(json)).toEqual([
      ['<=>', ['telling-truth', 2], ['lying', 0]],
      ['or', ['telling-truth', 1], ['not', ['lying', 2]]],
      ['->', ['and', ['telling-truth', 0], ['lying', 1]], ['telling-truth', 2]],
    ]);
    expect(statementsFromText(json, 3)).toEqual(s);
    expect(s.map(statementToTuple).map((t) => statementFromTuple(t))).toEqual(s);
  });

  it("reads the Python tuple literals of the K&K datasets, including one-element tuples", () => {
    const text = "(('<=>', ('telling-truth', 2), ('telling-truth', 0)), ('not', ('lying', 1)), ('or', ('telling-truth', 1), ('lying', 2)))";
    expect(statementsFromText(text, 3)).toEqual([iff(knight(2), knight(0)), not(knave(1)), or(knight(1), knave(2))]);
    expect(parsePythonTuple("(('lying', 0),)")).toEqual([['lying', 0]]);
  });

  it.each([
    ['[["telling-truth", 3]]', /out of range/],
    ['[["maybe", 0]]', /unknown operator/],
    ['[["and", ["lying", 0]]]', /at least two/],
    ['[["->", ["lying", 0]]]', /takes two/],
    ['[["telling-truth"]]', /one person index/],
    ['{"a": 1}', /list of statements/],
    ["(('lying', 0)", /expected/],
  ])('rejects %s with a located error', (text, message) => {
    expect(() => statementsFromText(text, 2)).toThrow(message);
    expect(() => statementsFromText(text, 2)).toThrow(StatementFormatError);
  });

  it('evaluates every operator', () => {
    const k = [true, false];
    expect(evaluate(knight(0), k)).toBe(true);
    expect(evaluate(knave(1), k)).toBe(true);
    expect(evaluate(and(knight(0), knight(1)), k)).toBe(false);
    expect(evaluate(or(knight(0), knight(1)), k)).toBe(true);
    expect(evaluate(implies(knight(1), knight(0)), k)).toBe(true);
    expect(evaluate(implies(knight(0), knight(1)), k)).toBe(false);
    expect(evaluate(iff(knave(0), knight(1)), k)).toBe(true);
    expect(evaluate(not(iff(knave(0), knight(1))), k)).toBe(false);
  });
});
