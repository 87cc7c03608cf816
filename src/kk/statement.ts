/**
 * The Knights & Knaves statement tree.
 *
 * A statement is what one islander says. Leaves claim a role ("Zoey is a knight" /
 * "Zoey is a knave"); inner nodes combine claims with not, and, or, if-then and
 * if-and-only-if. The encoding follows the published K&K generator (Xie et al. 2024):
 * on disk a statement is the JSON form of their Python tuples, e.g.
 * `["<=>", ["telling-truth", 2], ["lying", 0]]`, so datasets interoperate without a
 * translation table.
 */

/** A statement tree. Person indices are 0-based positions in the puzzle's `names`. */
export type Statement =
  | { readonly op: 'knight'; readonly who: number }
  | { readonly op: 'knave'; readonly who: number }
  | { readonly op: 'not'; readonly arg: Statement }
  | { readonly op: 'and' | 'or'; readonly args: readonly Statement[] }
  | { readonly op: 'implies' | 'iff'; readonly args: readonly [Statement, Statement] };

/** The K&K tuple encoding of a statement, as JSON arrays. */
export type StatementTuple =
  | readonly ['telling-truth' | 'lying', number]
  | readonly ['not', StatementTuple]
  | readonly ['and' | 'or', ...StatementTuple[]]
  | readonly ['->' | '<=>', StatementTuple, StatementTuple];

/** Builders for statement trees, for tests and hand-written puzzles: `iff(knight(0), knave(1))`. */
export const knight = (who: number): Statement => ({ op: 'knight', who });
export const knave = (who: number): Statement => ({ op: 'knave', who });
export const not = (arg: Statement): Statement => ({ op: 'not', arg });
export const and = (...args: Statement[]): Statement => ({ op: 'and', args });
export const or = (...args: Statement[]): Statement => ({ op: 'or', args });
export const implies = (a: Statement, b: Statement): Statement => ({ op: 'implies', args: [a, b] });
export const iff = (a: Statement, b: Statement): Statement => ({ op: 'iff', args: [a, b] });

/** True for a role claim or a negated role claim: the forms that render without parentheses. */
export function isLiteral(s: Statement): boolean {
  return s.op === 'knight' || s.op === 'knave' || (s.op === 'not' && (s.arg.op === 'knight' || s.arg.op === 'knave'));
}

/** Nesting depth: a role claim has depth 1. */
export function statementDepth(s: Statement): number {
  switch (s.op) {
    case 'knight':
    case 'knave':
      return 1;
    case 'not':
      return 1 + statementDepth(s.arg);
    default:
      return 1 + Math.max(...s.args.map(statementDepth));
  }
}

/** Evaluates a statement under one assignment (`knights[i]` is true when person i is a knight). */
export function evaluate(s: Statement, knights: readonly boolean[]): boolean {
  switch (s.op) {
    case 'knight':
      return knights[s.who] === true;
    case 'knave':
      return knights[s.who] === false;
    case 'not':
      return !evaluate(s.arg, knights);
    case 'and':
      return s.args.every((a) => evaluate(a, knights));
    case 'or':
      return s.args.some((a) => evaluate(a, knights));
    case 'implies':
      return !evaluate(s.args[0], knights) || evaluate(s.args[1], knights);
    case 'iff':
      return evaluate(s.args[0], knights) === evaluate(s.args[1], knights);
  }
}

/** Every person index the statement mentions. */
export function mentions(s: Statement, into: Set<number> = new Set()): Set<number> {
  if (s.op === 'knight' || s.op === 'knave') into.add(s.who);
  else if (s.op === 'not') mentions(s.arg, into);
  else for (const a of s.args) mentions(a, into);
  return into;
}

/** Converts a statement to its K&K tuple form. */
export function statementToTuple(s: Statement): StatementTuple {
  switch (s.op) {
    case 'knight':
      return ['telling-truth', s.who];
    case 'knave':
      return ['lying', s.who];
    case 'not':
      return ['not', statementToTuple(s.arg)];
    case 'and':
    case 'or':
      return [s.op, ...s.args.map(statementToTuple)];
    case 'implies':
      return ['->', statementToTuple(s.args[0]), statementToTuple(s.args[1])];
    case 'iff':
      return ['<=>', statementToTuple(s.args[0]), statementToTuple(s.args[1])];
  }
}

/** Thrown when a statement encoding is malformed; `path` locates the bad node. */
export class StatementFormatError extends Error {
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(`${message} at ${path}`);
    this.name = 'StatementFormatError';
  }
}

/**
 * Converts the K&K tuple form (already parsed from JSON or Python) to a statement,
 * checking every node. `nPeople`, when given, bounds the person indices.
 */
export function statementFromTuple(t: unknown, nPeople?: number, path = '$'): Statement {
  if (!Array.isArray(t) || t.length === 0) throw new StatementFormatError('expected a non-empty tuple', path);
  const [tag, ...rest] = t as unknown[];
  const child = (i: number): Statement => statementFromTuple(rest[i], nPeople, `${path}[${i + 1}]`);
  switch (tag) {
    case 'telling-truth':
    case 'lying': {
      const who = rest[0];
      if (rest.length !== 1 || typeof who !== 'number' || !Number.isInteger(who) || who < 0) {
        throw new StatementFormatError(`'${tag}' takes one person index`, path);
      }
      if (nPeople !== undefined && who >= nPeople) {
        throw new StatementFormatError(`person index ${who} is out of range for ${nPeople} people`, path);
      }
      return tag === 'telling-truth' ? knight(who) : knave(who);
    }
    case 'not':
      if (rest.length !== 1) throw new StatementFormatError(`'not' takes one argument, got ${rest.length}`, path);
      return not(child(0));
    case 'and':
    case 'or':
      if (rest.length < 2) throw new StatementFormatError(`'${tag}' takes at least two arguments, got ${rest.length}`, path);
      return { op: tag, args: rest.map((_, i) => child(i)) };
    case '->':
    case '<=>':
      if (rest.length !== 2) throw new StatementFormatError(`'${tag}' takes two arguments, got ${rest.length}`, path);
      return { op: tag === '->' ? 'implies' : 'iff', args: [child(0), child(1)] };
    default:
      throw new StatementFormatError(`unknown operator ${JSON.stringify(tag)}`, path);
  }
}

/** Serialises a puzzle's statements as JSON of K&K tuples (the `statements` column). */
export function statementsToJSON(statements: readonly Statement[]): string {
  return JSON.stringify(statements.map(statementToTuple));
}

/**
 * Parses a `statements` column: JSON of K&K tuples, or the Python tuple literal the
 * published K&K and Logic-RL datasets store (`(('lying', 1), ('->', ...))`).
 */
export function statementsFromText(text: string, nPeople?: number): Statement[] {
  const trimmed = text.trim();
  const value = trimmed.startsWith('(') ? parsePythonTuple(trimmed) : (JSON.parse(trimmed) as unknown);
  if (!Array.isArray(value)) throw new StatementFormatError('expected a list of statements', '$');
  return value.map((t, i) => statementFromTuple(t, nPeople, `$[${i}]`));
}

/**
 * Parses the subset of Python literal syntax K&K statements use: tuples, quoted
 * strings and integers. A one-element tuple `(x,)` is a tuple, as in Python.
 */
export function parsePythonTuple(text: string): unknown {
  let pos = 0;
  const fail = (what: string): never => {
    throw new StatementFormatError(`expected ${what} in Python tuple text`, `char ${pos}`);
  };
  const skip = (): void => {
    while (pos < text.length && /\s/.test(text[pos] ?? '')) pos++;
  };
  const value = (): unknown => {
    skip();
    const c = text[pos];
    if (c === '(' || c === '[') {
      const close = c === '(' ? ')' : ']';
      pos++;
      const items: unknown[] = [];
      skip();
      while (text[pos] !== close) {
        items.push(value());
        skip();
        if (text[pos] === ',') pos++;
        else if (text[pos] !== close) fail(`',' or '${close}'`);
        skip();
      }
      pos++;
      return items;
    }
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, pos + 1);
      if (end < 0) fail('a closing quote');
      const s = text.slice(pos + 1, end);
      pos = end + 1;
      return s;
    }
    const m = /^-?\d+/.exec(text.slice(pos));
    if (!m) return fail('a tuple, string or integer');
    pos += m[0].length;
    return Number(m[0]);
  };
  const v = value();
  skip();
  if (pos !== text.length) fail('end of text');
  return v;
}

/** A canonical text key for a statement tree; equal keys mean identical trees. */
export function statementKey(s: Statement): string {
  switch (s.op) {
    case 'knight':
      return `T${s.who}`;
    case 'knave':
      return `L${s.who}`;
    case 'not':
      return `!${statementKey(s.arg)}`;
    case 'and':
      return `&(${s.args.map(statementKey).join(',')})`;
    case 'or':
      return `|(${s.args.map(statementKey).join(',')})`;
    case 'implies':
      return `>(${statementKey(s.args[0])},${statementKey(s.args[1])})`;
    case 'iff':
      return `=(${statementKey(s.args[0])},${statementKey(s.args[1])})`;
  }
}
