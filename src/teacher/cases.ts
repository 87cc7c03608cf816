/**
 * A case-checking chain of thought for K&K, written for a small student: it restates
 * each claim once, then goes through the assignments in a fixed order, and in each case
 * checks the claims one by one until one fails or all fit:
 *
 *   Case: Zoey knight, Oliver knave.
 *   Zoey knight: Oliver is a knave (true), true. Fits.
 *   Oliver knave: Zoey is a knight (true) and Oliver is a knight (false), false. Fits.
 *   All fit.
 *
 * Every step reads one or two tokens written just before it: a part's truth compares a
 * role in the case line with the role claimed; a claim's truth combines the parts'
 * truths; "Fits" compares that truth with the speaker's role. The search-style trace
 * (symbolic.ts) propagates consequences instead, which is shorter but asks a student to
 * evaluate a whole claim under a partial assignment in one step.
 *
 * The first case that fits is the puzzle's solution (puzzles have exactly one), so the
 * trace stops there and answers.
 *
 * With the quiz's names (the default) rather than numbers (`numbered`, below), a student
 * from the world base learns K&K about twice as fast: it copies a claim's names, where
 * the numbered trace asks it to translate them (results/LAB.md, probes 30
 * and 34, which also tried four other layouts).
 */
import type { Puzzle } from '../kk/puzzle.js';
import { renderSolutionTextFormat, renderStatement } from '../kk/render.js';
import { evaluate, type Statement } from '../kk/statement.js';

/** Assignment number `k` of `n` islanders: the first islander changes slowest, knight first. */
const caseAssignment = (k: number, n: number): boolean[] => Array.from({ length: n }, (_, i) => ((k >> (n - 1 - i)) & 1) === 0);

/**
 * Writes the case-checking trace for `puzzle`; `openThink` false when the prompt already
 * opened `<think>`. `numbered` first numbers the islanders in the quiz's order
 * ("Number them: Zoey 1, Oliver 2.") and then writes every claim and case with the
 * numbers, so that a case line is the same few tokens in every puzzle and only the
 * restated claims and the answer copy names from the quiz.
 */
export function casesTrace(puzzle: Puzzle, openThink = true, numbered = false): string {
  const { roles, statements } = puzzle;
  const names = numbered ? puzzle.names.map((_, i) => String(i + 1)) : puzzle.names;
  const n = names.length;
  const word = (knight: boolean): string => (knight ? roles.truthful : roles.liar);
  const lines = ['Let me check each case.'];
  if (numbered) lines.push(`Number them: ${puzzle.names.map((name, i) => `${name} ${i + 1}`).join(', ')}.`);
  statements.forEach((s, i) => lines.push(`${names[i]} says: ${renderStatement(s, names, roles)}.`));
  let found: boolean[] | null = null;
  for (let k = 0; k < 2 ** n && !found; k++) {
    const knights = caseAssignment(k, n);
    lines.push(`Case: ${names.map((name, i) => `${name} ${word(knights[i] as boolean)}`).join(', ')}.`);
    const note = (part: Statement): string => ` (${evaluate(part, knights)})`;
    let fits = true;
    for (let i = 0; i < n && fits; i++) {
      const s = statements[i] as Statement;
      const truth = evaluate(s, knights);
      fits = truth === knights[i];
      lines.push(`${names[i]} ${word(knights[i] as boolean)}: ${renderStatement(s, names, roles, note)}, ${truth}. ${fits ? 'Fits' : 'Fails'}.`);
    }
    if (fits) found = knights;
  }
  if (!found) throw new Error(`cases teacher: puzzle ${puzzle.id} has no consistent assignment`);
  if (found.some((v, i) => v !== puzzle.solution[i])) {
    throw new Error(`cases teacher: puzzle ${puzzle.id}: the first case that fits is ${found.join(',')}, but the recorded solution is ${puzzle.solution.join(',')}`);
  }
  lines.push('All fit.');
  return `${openThink ? '<think>' : ''}${lines.join('\n')}\n</think>\n<answer>${renderSolutionTextFormat(puzzle.names, roles, found)}</answer>`;
}
