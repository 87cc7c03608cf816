import { describe, expect, it } from 'vitest';
import { generatePuzzles, makeKKConfig } from '../../src/kk/generator.js';
import { parseRolePair } from '../../src/kk/names.js';
import { parseQuiz, QuizParseError } from '../../src/kk/parse-quiz.js';
import { uniqueSolution } from '../../src/kk/solver.js';
import { and, iff, implies, knave, knight, not, or, statementKey } from '../../src/kk/statement.js';

const INTRO = 'A very special island is inhabited only by knights and knaves. Knights always tell the truth, and knaves always lie.';

describe('parseQuiz', () => {
  it('reads the K&K dataset phrasings', () => {
    // Frames seen in the published K&K / Logic-RL data, one per islander.
    const quiz =
      `${INTRO} You meet 7 inhabitants: Michael, Zoey, Ethan, Mia, Owen, Lily, and Jack. ` +
      'Michael was heard saying, "Ethan is a knight if and only if Michael is a knight". ' +
      '"Zoey is a knight or Ethan is a knight," Zoey mentioned. ' +
      'Ethan asserted: "Michael is a knave if and only if Zoey is a knave". ' +
      'In Mia\'s words: "If Michael is a knight then Mia is a knight". ' +
      'Owen told you that Zoey is not a knave. ' +
      '"Michael is a knight and Jack is a knave" - Lily. ' +
      'According to Jack, "Owen is not a knight". So who is a knight and who is a knave?';
    const p = parseQuiz(quiz);
    expect(p.names).toEqual(['Michael', 'Zoey', 'Ethan', 'Mia', 'Owen', 'Lily', 'Jack']);
    expect(p.roles).toEqual({ truthful: 'knight', liar: 'knave' });
    expect(p.statements).toEqual([
      iff(knight(2), knight(0)),
      or(knight(1), knight(2)),
      iff(knave(0), knave(1)),
      implies(knight(0), knight(3)),
      not(knave(1)),
      and(knight(0), knave(6)),
      not(knight(4)),
    ]);
  });

  it('accepts statements in any order, and a period inside the quotes', () => {
    const quiz = `${INTRO} You meet 2 inhabitants: Ann and Bo. Bo said, "Ann is a knave." Ann said that Bo is a knave. So who is a knight and who is a knave?`;
    expect(parseQuiz(quiz).statements).toEqual([knave(1), knave(0)]);
  });

  it('round-trips every renderer output, deeper trees included (renderer → parser → solver)', () => {
    for (const config of [makeKKConfig(), makeKKConfig({ depth: 4, width: 3 }), makeKKConfig({ roles: parseRolePair('angels') })]) {
      for (const p of generatePuzzles({ people: [2, 3, 5, 8], count: 400, seed: 3, config })) {
        const q = parseQuiz(p.quiz);
        expect(q.names).toEqual(p.names);
        expect(q.statements.map(statementKey)).toEqual(p.statements.map(statementKey));
        expect(uniqueSolution(q.names.length, q.statements)).toEqual(p.solution);
      }
    }
  });

  it.each([
    [
      'a sentence with no claim',
      `${INTRO} You meet 2 inhabitants: Ann and Bo. Ann said, "Bo is a knave". Bo mumbled something. So who is a knight and who is a knave?`,
      /sentence 2 "Bo mumbled something\.":/,
    ],
    [
      'an unknown role word',
      `${INTRO} You meet 2 inhabitants: Ann and Bo. Ann said, "Bo is a wizard". Bo said, "Ann is a knave". So who is a knight and who is a knave?`,
      /sentence 1 .*expected a claim such as "Zoey is a knight"/,
    ],
    [
      'a missing statement',
      `${INTRO} You meet 2 inhabitants: Ann and Bo. Ann said, "Bo is a knave". So who is a knight and who is a knave?`,
      /no statement found for Bo/,
    ],
    [
      'someone speaking twice',
      `${INTRO} You meet 2 inhabitants: Ann and Bo. Ann said, "Bo is a knave". Ann said, "Bo is a knight". So who is a knight and who is a knave?`,
      /sentence 2 .*Ann already spoke in sentence 1/,
    ],
    [
      'a claim about a stranger',
      `${INTRO} You meet 2 inhabitants: Ann and Bo. Ann said, "Zed is a knave". Bo said, "Ann is a knave". So who is a knight and who is a knave?`,
      /sentence 1 .*"Zed" is not one of the islanders \(Ann, Bo\)/,
    ],
    ['no intro', 'Ann said, "Bo is a knave".', /does not name the roles/],
    [
      'a wrong count',
      `${INTRO} You meet 3 inhabitants: Ann and Bo. Ann said, "Bo is a knave". So who is a knight and who is a knave?`,
      /says 3 inhabitants but lists 2/,
    ],
    [
      'mixed and/or',
      `${INTRO} You meet 2 inhabitants: Ann and Bo. Ann said, "Bo is a knave, Ann is a knight and Bo is a knight or Ann is a knave". Bo said, "Ann is a knave". So who is a knight and who is a knave?`,
      /sentence 1 .*mixes "and" and "or"/,
    ],
  ])('reports %s, naming the sentence', (_, quiz, message) => {
    expect(() => parseQuiz(quiz)).toThrow(QuizParseError);
    expect(() => parseQuiz(quiz)).toThrow(message);
  });
});
