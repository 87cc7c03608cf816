/**
 * The puzzle record shared by the generator, the parsers, the teachers and the
 * datasets.
 */
import type { RolePair } from './names.js';
import type { Statement } from './statement.js';

/** One Knights & Knaves puzzle with its unique solution. */
export interface Puzzle {
  /** Stable id: `kk<N>-<hash of statements, names and roles>` for generated puzzles. */
  readonly id: string;
  /** Seed of the stream that drew this puzzle, or null for imported puzzles. */
  readonly seed: number | null;
  readonly names: readonly string[];
  readonly roles: RolePair;
  /** One statement per islander, by position in `names`. */
  readonly statements: readonly Statement[];
  readonly quiz: string;
  /** `solution[i]` is true when islander i is truthful (a knight). */
  readonly solution: readonly boolean[];
  /** "Zoey is a knight, and Oliver is a knave." */
  readonly solutionText: string;
  /** "(1) Zoey is a knight\n(2) Oliver is a knave" */
  readonly solutionTextFormat: string;
}
