/**
 * Seeded Knights & Knaves puzzle generator.
 *
 * Each attempt draws one statement per islander from a seeded stream, keeps the puzzle
 * only if exactly one role assignment is consistent, and skips puzzles whose statements
 * were already produced (names are cosmetic and do not make a puzzle new). Statements
 * are sampled top-down as in the published generator (Xie et al. 2024): at each node a
 * six-sided die picks a role claim, `not`, `and`, `or`, `->` or `<=>`; `depth` bounds the
 * nesting and `width` the operands of and/or. No one ever says "I am a knave".
 *
 * Small spaces are finite (two islanders at depth 2 have 900 statement pairs, 399 with a
 * unique solution, the figure the K&K authors report), so when a request is a sizeable
 * share of an enumerable space the generator counts the space exactly and either fails
 * with the true number or draws from the enumeration, rather than sampling forever.
 */
import { deriveSeed, Rng } from '../util/rng.js';
import { hash53 } from '../util/hash.js';
import { DEFAULT_NAMES, ROLE_PAIRS, type RolePair } from './names.js';
import {
  checkTemplate,
  DEFAULT_TEMPLATES,
  renderQuiz,
  renderSolutionText,
  renderSolutionTextFormat,
} from './render.js';
import { countSolutions, MAX_SOLVER_PEOPLE, uniqueSolution } from './solver.js';
import { statementKey, type Statement } from './statement.js';
import type { Puzzle } from './puzzle.js';

/** What a generated puzzle looks like. Defaults match the K&K dataset. */
export interface KKConfig {
  /** Maximum nesting of a statement; 2 as in the K&K dataset (an operator over role claims). */
  readonly depth: number;
  /** Maximum operands of and/or; 2 as in the K&K dataset. */
  readonly width: number;
  /** Name pool; each puzzle draws distinct names from it. */
  readonly names: readonly string[];
  /** Role words; knights/knaves as in the K&K dataset. */
  readonly roles: RolePair;
  /** Sentence frames, one drawn per statement (see `DEFAULT_TEMPLATES`). */
  readonly templates: readonly string[];
}

export const DEFAULT_KK_CONFIG: KKConfig = {
  depth: 2,
  width: 2,
  names: DEFAULT_NAMES,
  roles: ROLE_PAIRS.knights,
  templates: DEFAULT_TEMPLATES,
};

/** Largest islander count the generator accepts (the solver allows more, slowly). */
export const MAX_PEOPLE = 16;
/** Spaces up to this many statement tuples may be enumerated exactly. */
const ENUMERATE_LIMIT = 1_000_000;
/** Attempts in a row without a new puzzle before sampling gives up. */
const STALL_LIMIT = 200_000;

/** Thrown when more distinct puzzles are asked for than the space holds. */
export class KKExhaustedError extends Error {
  constructor(
    message: string,
    readonly available: number | null,
  ) {
    super(message);
    this.name = 'KKExhaustedError';
  }
}

/** Validates a config, returning it with defaults filled in. */
export function makeKKConfig(partial: Partial<KKConfig> = {}): KKConfig {
  const c = { ...DEFAULT_KK_CONFIG, ...partial };
  if (!Number.isInteger(c.depth) || c.depth < 1 || c.depth > 6) throw new RangeError(`depth must be 1..6, got ${c.depth}`);
  if (!Number.isInteger(c.width) || c.width < 2 || c.width > 6) throw new RangeError(`width must be 2..6, got ${c.width}`);
  if (new Set(c.names).size !== c.names.length) throw new Error('the name list has duplicates');
  for (const n of c.names) {
    if (!/^[A-Z][\p{L}'-]*$/u.test(n)) throw new Error(`bad name ${JSON.stringify(n)}: names are one capitalised word`);
  }
  if (c.roles.truthful === c.roles.liar) throw new Error('the two role words must differ');
  if (c.templates.length === 0) throw new Error('at least one statement template is needed');
  c.templates.forEach(checkTemplate);
  return c;
}

function checkPeople(n: number, config: KKConfig): void {
  if (!Number.isInteger(n) || n < 1 || n > Math.min(MAX_PEOPLE, MAX_SOLVER_PEOPLE)) {
    throw new RangeError(`people must be 1..${MAX_PEOPLE}, got ${n}`);
  }
  if (n > config.names.length) {
    throw new RangeError(`${n} islanders need ${n} distinct names, but the name list has ${config.names.length}`);
  }
}

/** Number of distinct statements one islander can make among `n` at `depth`. */
export function countStatements(n: number, depth: number, width: number): number {
  const leaves = 2 * n - 1;
  if (depth <= 1) return leaves;
  const sub = countStatements(n, depth - 1, width);
  let perm = sub;
  let sequences = 0;
  for (let k = 2; k <= width; k++) {
    perm *= sub - k + 1; // ordered, distinct operands: sub · (sub-1) · … · (sub-k+1)
    sequences += Math.max(0, perm);
  }
  const pairs = Math.max(0, sub * (sub - 1));
  return leaves + sub + 2 * sequences + 2 * pairs;
}

/** Every statement person `self` can make, in a fixed order (for exact enumeration). */
export function enumerateStatements(self: number, n: number, depth: number, width: number): Statement[] {
  const leaves: Statement[] = [];
  for (let who = 0; who < n; who++) {
    leaves.push({ op: 'knight', who });
    if (who !== self) leaves.push({ op: 'knave', who });
  }
  if (depth <= 1) return leaves;
  const sub = enumerateStatements(self, n, depth - 1, width);
  const out = [...leaves, ...sub.map((arg): Statement => ({ op: 'not', arg }))];
  const sequences = (k: number, prefix: Statement[], used: Set<number>, emit: (s: Statement[]) => void): void => {
    if (prefix.length === k) return emit(prefix.slice());
    sub.forEach((s, i) => {
      if (used.has(i)) return;
      used.add(i);
      prefix.push(s);
      sequences(k, prefix, used, emit);
      prefix.pop();
      used.delete(i);
    });
  };
  for (const op of ['and', 'or'] as const) {
    for (let k = 2; k <= width; k++) sequences(k, [], new Set(), (args) => out.push({ op, args }));
  }
  for (const op of ['implies', 'iff'] as const) {
    sequences(2, [], new Set(), (args) => out.push({ op, args: [args[0] as Statement, args[1] as Statement] }));
  }
  return out;
}

/** Samples person `self`'s statement top-down. */
function sampleStatement(rng: Rng, self: number, n: number, depth: number, width: number): Statement {
  const dice = depth <= 1 ? 0 : rng.int(6);
  if (dice === 1) return { op: 'not', arg: sampleStatement(rng, self, n, depth - 1, width) };
  if (dice >= 2) {
    const pool = countStatements(n, depth - 1, width);
    const op = (['and', 'or', 'implies', 'iff'] as const)[dice - 2] as 'and' | 'or' | 'implies' | 'iff';
    const k = op === 'and' || op === 'or' ? Math.min(2 + rng.int(width - 1), pool) : 2;
    if (pool >= 2) {
      const args: Statement[] = [];
      const keys: string[] = [];
      while (args.length < k) {
        const s = sampleStatement(rng, self, n, depth - 1, width);
        const key = statementKey(s);
        if (!keys.includes(key)) {
          keys.push(key);
          args.push(s);
        }
      }
      return op === 'and' || op === 'or' ? { op, args } : { op, args: [args[0] as Statement, args[1] as Statement] };
    }
  }
  for (;;) {
    const who = rng.int(n);
    const liar = rng.int(2) === 1;
    if (!(liar && who === self)) return liar ? { op: 'knave', who } : { op: 'knight', who };
  }
}

/** The statements of one attempt; the same seed always gives the same statements. */
export function sampleStatements(seed: number, n: number, config: KKConfig = DEFAULT_KK_CONFIG): Statement[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, i) => sampleStatement(rng, i, n, config.depth, config.width));
}

/**
 * The key of a puzzle's logical structure: its size and claims, without names or
 * phrasing. Two puzzles with one key are the same puzzle under other names, so a
 * held-out set excludes keys, not only ids.
 */
export const structureKey = (statements: readonly Statement[], claims = statements.map(statementKey).join(';')): string => `structure:${statements.length}|${claims}`;

/** Whether a puzzle is excluded by id or by structure; no key is built when nothing is excluded. `claims` is the statement keys joined, when the caller has it. */
function isExcluded(exclude: ReadonlySet<string>, id: string, statements: readonly Statement[], claims?: string): boolean {
  return exclude.size > 0 && (exclude.has(id) || exclude.has(structureKey(statements, claims)));
}

/** Turns statements with a unique solution into a rendered puzzle; names and frames come from `seed`. */
export function makePuzzle(
  seed: number,
  statements: readonly Statement[],
  solution: readonly boolean[],
  config: KKConfig = DEFAULT_KK_CONFIG,
): Puzzle {
  const n = statements.length;
  const rng = new Rng(deriveSeed(seed, 0x6e616d65));
  const names = rng.sample(config.names, n);
  const quiz = renderQuiz(names, config.roles, statements, () => rng.pick(config.templates));
  const key = `${n}|${statements.map(statementKey).join(';')}|${names.join(',')}|${config.roles.truthful}/${config.roles.liar}`;
  return {
    id: `kk${n}-${hash53(key).toString(16).padStart(14, '0')}`,
    seed,
    names,
    roles: config.roles,
    statements: [...statements],
    quiz,
    solution: [...solution],
    solutionText: renderSolutionText(names, config.roles, solution),
    solutionTextFormat: renderSolutionTextFormat(names, config.roles, solution),
  };
}

/** The statement tuples of all unique-solution puzzles for `n` islanders, or null if too many to list. */
export function enumerateUniquePuzzles(n: number, config: KKConfig): Statement[][] | null {
  const perPerson = countStatements(n, config.depth, config.width);
  if (perPerson ** n > ENUMERATE_LIMIT) return null;
  const lists = Array.from({ length: n }, (_, i) => enumerateStatements(i, n, config.depth, config.width));
  const out: Statement[][] = [];
  const current: Statement[] = [];
  const walk = (i: number): void => {
    if (i === n) {
      if (countSolutions(n, current, 2) === 1) out.push(current.slice());
      return;
    }
    for (const s of lists[i] as Statement[]) {
      current.push(s);
      walk(i + 1);
      current.pop();
    }
  };
  walk(0);
  return out;
}

/** Options of one generation run. */
export interface GenerateOptions {
  /** Islander counts; `count` is split evenly across them, in this order. */
  readonly people: readonly number[];
  /** Total number of puzzles. */
  readonly count: number;
  /** Puzzles per islander count instead of an even split (one per entry of `people`, summing to `count`). */
  readonly counts?: readonly number[];
  /** Run seed (uint32). */
  readonly seed: number;
  readonly config?: KKConfig;
  /**
   * Puzzle ids or `structureKey`s never to yield (e.g. a held-out set's): a puzzle
   * with one of these ids, or with the claims of an excluded structure under any
   * names, is skipped and another drawn in its place, so the count stays `count`.
   */
  readonly exclude?: ReadonlySet<string>;
  /**
   * Where a size has fewer distinct structures than asked (two islanders: 399), use
   * them again under other names and frames, each round a fresh seeded order, instead
   * of failing. Puzzles stay distinct by id; only the claims repeat.
   */
  readonly repeat?: boolean;
}

/** How many of `count` each entry of `people` gets: an even split, the remainder to the first entries (puzzles per size; rows per domain). */
export function splitCount(count: number, people: readonly unknown[]): number[] {
  const base = Math.floor(count / people.length);
  return people.map((_, i) => base + (i < count % people.length ? 1 : 0));
}

/**
 * Generates distinct unique-solution puzzles, grouped by size in the order of
 * `people`. Throws `KKExhaustedError` before yielding anything for a size whose space
 * is known to be too small, and if sampling stalls.
 */
export function* generatePuzzles(options: GenerateOptions): Generator<Puzzle, void, undefined> {
  const config = options.config ?? DEFAULT_KK_CONFIG;
  if (!Number.isInteger(options.count) || options.count < 0) throw new RangeError(`count must be a non-negative integer, got ${options.count}`);
  if (options.people.length === 0) throw new RangeError('people must list at least one islander count');
  options.people.forEach((n) => checkPeople(n, config));
  const counts = options.counts ?? splitCount(options.count, options.people);
  if (counts.length !== options.people.length || counts.reduce((a, b) => a + b, 0) !== options.count) {
    throw new RangeError(`counts [${counts.join(', ')}] must give one count per islander count [${options.people.join(', ')}] and sum to ${options.count}`);
  }
  for (const [g, n] of options.people.entries()) {
    const want = counts[g] ?? 0;
    if (want > 0) yield* generateSize(n, want, deriveSeed(options.seed, n, g), config, options.exclude ?? new Set(), options.repeat === true);
  }
}

function* generateSize(n: number, want: number, seed: number, config: KKConfig, exclude: ReadonlySet<string>, repeat: boolean): Generator<Puzzle> {
  const space = countStatements(n, config.depth, config.width) ** n;
  const shape = `N=${n} (depth ${config.depth}, width ${config.width})`;
  if (space <= ENUMERATE_LIMIT && want > space / 100) {
    const all = enumerateUniquePuzzles(n, config) as Statement[][];
    if (repeat && want > all.length / 2) {
      yield* repeatStructures(all, n, want, seed, config, exclude, shape);
      return;
    }
    if (want > all.length) {
      throw new KKExhaustedError(
        `only ${all.length} distinct puzzles with exactly one solution exist for ${shape}; asked for ${want}. ` +
          'Ask for fewer, raise --depth / --width for a larger space, or allow repeated claims under other names (--repeat).',
        all.length,
      );
    }
    if (want > all.length / 2) {
      // Excluded puzzles are replaced by the next of a longer draw; with none excluded
      // the draw is exactly `want` long, as it always was.
      const rng = new Rng(seed);
      let made = 0;
      for (const [i, statements] of rng.sample(all, Math.min(all.length, want + exclude.size)).entries()) {
        const puzzle = makePuzzle(deriveSeed(seed, i), statements, uniqueSolution(n, statements) as boolean[], config);
        if (isExcluded(exclude, puzzle.id, statements)) continue;
        yield puzzle;
        if (++made === want) return;
      }
      const structures = [...exclude].filter((k) => k.startsWith('structure:')).length;
      const what = `${exclude.size - structures} excluded${structures > 0 ? ` (and ${structures} excluded structures under any names)` : ''}`;
      throw new KKExhaustedError(`only ${made} distinct puzzles for ${shape} remain outside the ${what}; asked for ${want}`, made);
    }
  }
  const seen = new Set<string>();
  let made = 0;
  let sinceLast = 0;
  for (let attempt = 0; made < want; attempt++) {
    const attemptSeed = deriveSeed(seed, attempt);
    const statements = sampleStatements(attemptSeed, n, config);
    const key = countSolutions(n, statements, 2) === 1 ? statements.map(statementKey).join(';') : null;
    const puzzle = key !== null && !seen.has(key) ? makePuzzle(attemptSeed, statements, uniqueSolution(n, statements) as boolean[], config) : null;
    if (puzzle !== null && key !== null && !isExcluded(exclude, puzzle.id, statements, key)) {
      seen.add(key);
      made++;
      sinceLast = 0;
      yield puzzle;
    } else if (++sinceLast >= STALL_LIMIT) {
      throw new KKExhaustedError(
        `sampling stalled for ${shape}: ${STALL_LIMIT} attempts in a row found no new puzzle after ${made} of ${want}. ` +
          'The space is nearly used up; ask for fewer, or raise --depth / --width.',
        null,
      );
    }
  }
}

/**
 * `want` puzzles from the structures `all` (none of them excluded), in rounds: each
 * round visits every allowed structure once, in a seeded order, under fresh names.
 */
function* repeatStructures(all: readonly Statement[][], n: number, want: number, seed: number, config: KKConfig, exclude: ReadonlySet<string>, shape: string): Generator<Puzzle> {
  const allowed = all.filter((st) => !exclude.has(structureKey(st)));
  if (allowed.length === 0) throw new KKExhaustedError(`no puzzle for ${shape} remains outside the excluded structures`, 0);
  const ids = new Set<string>();
  let made = 0;
  for (let round = 0; made < want; round++) {
    const order = new Rng(deriveSeed(seed, 0x72657074, round)).shuffle([...allowed.keys()]);
    for (const k of order) {
      const statements = allowed[k] as Statement[];
      const puzzle = makePuzzle(deriveSeed(seed, round, k), statements, uniqueSolution(n, statements) as boolean[], config);
      if (ids.has(puzzle.id) || isExcluded(exclude, puzzle.id, statements)) continue;
      ids.add(puzzle.id);
      yield puzzle;
      if (++made === want) return;
    }
    if (round > want) throw new KKExhaustedError(`only ${made} distinct puzzles for ${shape} under repeated structures; asked for ${want}`, made);
  }
}
