/**
 * Puzzles as dataset rows: warmup's own `puzzles` artifact, and the K&K formats
 * published on Hugging Face (JSONL) and by Logic-RL / verl (Parquet), whose rows carry
 * quiz, names, solution, solution_text_format and the statements as a Python tuple
 * literal.
 */
import { ROLE_PAIRS, type RolePair } from './names.js';
import type { Puzzle } from './puzzle.js';
import { renderSolutionText, renderSolutionTextFormat } from './render.js';
import { statementsFromText, statementsToJSON, type Statement } from './statement.js';
import { hash53 } from '../util/hash.js';
import { readInfo, readRows } from '../data/dataset.js';
import { checkSchema, SchemaMismatchError } from '../data/records.js';
import { PUZZLES, type PuzzleRecord } from '../data/schemas.js';

/** A dataset row that is not a valid puzzle; says which row and which column. */
export class PuzzleRecordError extends Error {
  constructor(
    readonly row: number,
    readonly column: string,
    reason: string,
  ) {
    super(`row ${row}: column '${column}' ${reason}`);
    this.name = 'PuzzleRecordError';
  }
}

export function puzzleToRecord(p: Puzzle): PuzzleRecord {
  return {
    id: p.id,
    seed: p.seed,
    n_people: p.names.length,
    names: [...p.names],
    roles: [p.roles.truthful, p.roles.liar],
    statements: statementsToJSON(p.statements),
    quiz: p.quiz,
    solution: [...p.solution],
    solution_text: p.solutionText,
    solution_text_format: p.solutionTextFormat,
  };
}

const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
const isBoolArray = (v: unknown): v is boolean[] => Array.isArray(v) && v.every((x) => typeof x === 'boolean');

function rolesFrom(value: unknown): RolePair {
  if (isStringArray(value) && value.length === 2) {
    const [truthful, liar] = value as [string, string];
    return Object.values(ROLE_PAIRS).find((r) => r.truthful === truthful && r.liar === liar) ?? { truthful, liar };
  }
  // The K&K datasets' `knight_knave` struct: {knight: "knight", knave: "knave", …}.
  if (value && typeof value === 'object' && 'knight' in value && 'knave' in value) {
    const kk = value;
    if (typeof kk.knight === 'string' && typeof kk.knave === 'string') {
      return kk.knight === 'knight' && kk.knave === 'knave' ? ROLE_PAIRS.knights : { truthful: kk.knight, liar: kk.knave };
    }
  }
  return ROLE_PAIRS.knights;
}

/**
 * Converts a row of warmup's puzzles artifact, or of a published K&K dataset, into a
 * puzzle. Statements come from the `statements` column (JSON or Python tuple text);
 * `row` is the 0-based row number used in errors.
 */
export function puzzleFromRecord(record: Record<string, unknown>, row = 0): Puzzle {
  const bad = (column: string, reason: string): never => {
    throw new PuzzleRecordError(row, column, reason);
  };
  const { quiz, names, solution } = record;
  if (typeof quiz !== 'string') bad('quiz', 'is missing or not a string');
  if (!isStringArray(names) || names.length === 0) bad('names', 'is missing or not a list of strings');
  const n = (names as string[]).length;
  if (!isBoolArray(solution) || solution.length !== n) bad('solution', `must be a list of ${n} booleans`);
  let statements: Statement[] = [];
  if (typeof record.statements !== 'string') bad('statements', 'is missing or not a string');
  try {
    statements = statementsFromText(record.statements as string, n);
  } catch (e) {
    bad('statements', `cannot be read: ${(e as Error).message}`);
  }
  if (statements.length !== n) bad('statements', `has ${statements.length} statements for ${n} people`);
  const roles = rolesFrom(record.roles ?? record.knight_knave);
  const sol = solution as boolean[];
  const id =
    typeof record.id === 'string'
      ? record.id
      : `kk${n}-${hash53(`${quiz as string}`).toString(16).padStart(14, '0')}`;
  const seed = typeof record.seed === 'number' ? record.seed : null;
  return {
    id,
    seed,
    names: names as string[],
    roles,
    statements,
    quiz: quiz as string,
    solution: sol,
    solutionText:
      typeof record.solution_text === 'string' ? record.solution_text : renderSolutionText(names as string[], roles, sol),
    solutionTextFormat:
      typeof record.solution_text_format === 'string'
        ? record.solution_text_format
        : renderSolutionTextFormat(names as string[], roles, sol),
  };
}

/**
 * Reads puzzles from any supported file: warmup's puzzles artifact or a K&K dataset
 * (HF JSONL, Logic-RL Parquet). Throws with the row number on the first bad row.
 */
export async function* readPuzzles(path: string): AsyncGenerator<Puzzle> {
  const info = await readInfo(path);
  if (info.artifact !== null && info.artifact !== 'puzzles') {
    throw new SchemaMismatchError(`${path} holds ${info.artifact}, not puzzles`);
  }
  if (info.artifact === 'puzzles' && info.schema) checkSchema(info.schema, PUZZLES.schema, path);
  let row = 0;
  for await (const r of readRows(path)) yield puzzleFromRecord(r, row++);
}
