/**
 * Reads a K&K quiz text back into names, role words and statement trees, so the solver
 * can re-check any dataset: warmup's own puzzles and the published K&K / Logic-RL ones.
 *
 * A quiz is an intro ("… inhabited only by knights and knaves. … You meet 3 inhabitants:
 * A, B, and C."), one sentence per islander, and a closing question. A sentence is a
 * frame around a claim, and frames vary freely, so they are matched by shape rather
 * than listed: the speaker is the first name before `, "` / `: "` / ` that `
 * (`Zoey remarked, "…"`, `According to Zoey, "…"`, `Zoey told you that …`), or the
 * name after a closing quote (`"…," Zoey claimed.`, `"…" - Zoey.`). Claims follow a
 * small grammar:
 *
 *   claim   := 'it is not the case that' operand | 'if' operand ','? 'then' operand
 *            | operand 'if and only if' operand | operand ((',')? ('and'|'or') operand)*
 *   operand := '(' claim ')' | NAME 'is' 'not'? ('a'|'an') ROLE
 */
import { ROLE_PAIRS, type RolePair } from './names.js';
import type { Statement } from './statement.js';
import { escapeRegExp } from '../util/text.js';

/** What `parseQuiz` recovers from a quiz. */
export interface ParsedQuiz {
  readonly names: string[];
  readonly roles: RolePair;
  /** One statement per islander, by position in `names`. */
  readonly statements: Statement[];
}

/** Options for quizzes whose intro is not in the K&K form. */
export interface ParseQuizOptions {
  /** Islander names, when the intro does not list them. */
  readonly names?: readonly string[];
  /** Role words, when the intro does not name them. */
  readonly roles?: RolePair;
}

/** A quiz that could not be read; `sentence` is the 1-based sentence that failed, if any. */
export class QuizParseError extends Error {
  constructor(
    readonly reason: string,
    readonly sentence: number | null = null,
    readonly text: string | null = null,
  ) {
    super(sentence === null ? reason : `sentence ${sentence} ${JSON.stringify(text)}: ${reason}`);
    this.name = 'QuizParseError';
  }
}

/** "knight" → "[Kk]night", so role words match at the start of a sentence too. */
const anyCase = (w: string): string => `[${w.charAt(0).toUpperCase()}${w.charAt(0).toLowerCase()}]${escapeRegExp(w.slice(1))}`;

/** Parses a quiz into names, roles and statements; throws `QuizParseError` saying where it failed. */
export function parseQuiz(quiz: string, options: ParseQuizOptions = {}): ParsedQuiz {
  const text = quiz.replace(/[\u201c\u201d]/g, '"').replace(/\u2019/g, "'").replace(/\s+/g, ' ').trim();
  const intro = parseIntro(text, options);
  const question = text.search(/\bSo who is\b[^"]*$/);
  const body = text.slice(intro.end, question < 0 ? text.length : question);
  return { names: intro.names, roles: intro.roles, statements: new SentenceParser(body, intro.names, intro.roles).all() };
}

function parseIntro(text: string, options: ParseQuizOptions): { names: string[]; roles: RolePair; end: number } {
  let roles = options.roles;
  if (!roles) {
    const m = /inhabited only by ([\p{L}-]+) and ([\p{L}-]+)\./iu.exec(text);
    if (!m) {
      throw new QuizParseError(
        'the intro does not name the roles ("inhabited only by knights and knaves."); pass the role words explicitly',
      );
    }
    const singular = (w: string): string => w.toLowerCase().replace(/s$/, '');
    const found = Object.values(ROLE_PAIRS).find((r) => r.truthful === singular(m[1] as string));
    roles = found && found.liar === singular(m[2] as string) ? found : { truthful: singular(m[1] as string), liar: singular(m[2] as string) };
  }
  const m = /You meet (\d+) inhabitants?: ([^.]*)\./iu.exec(text);
  if (options.names) {
    return { names: [...options.names], roles, end: m ? m.index + m[0].length : 0 };
  }
  if (!m) throw new QuizParseError('the intro does not list the islanders ("You meet 3 inhabitants: A, B, and C.")');
  const names = (m[2] as string)
    .split(/\s*,\s*(?:and\s+)?|\s+and\s+/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (names.length !== Number(m[1])) {
    throw new QuizParseError(`the intro says ${m[1]} inhabitants but lists ${names.length}: ${names.join(', ')}`);
  }
  if (new Set(names.map((n) => n.toLowerCase())).size !== names.length) {
    throw new QuizParseError(`the intro lists a name twice: ${names.join(', ')}`);
  }
  return { names, roles, end: m.index + m[0].length };
}

class SentenceParser {
  private pos = 0;
  private readonly nameIndex: Map<string, number>;
  private readonly trail: RegExp;
  private readonly leaf: RegExp;

  constructor(
    private readonly body: string,
    private readonly names: readonly string[],
    roles: RolePair,
  ) {
    this.nameIndex = new Map(names.map((n, i) => [n, i]));
    // Plain-ASCII names get \b boundaries and no `u` flag, which keeps V8's regex engine on its fast path.
    const ascii = names.every((n) => /^[A-Za-z][A-Za-z'-]*$/.test(n));
    const flags = ascii ? '' : 'u';
    const alts = [...names].sort((a, b) => b.length - a.length).map(escapeRegExp).join('|');
    const name = ascii ? `\\b(${alts})(?![A-Za-z-])` : `(?<![\\p{L}])(${alts})(?![\\p{L}-])`;
    this.firstName = new RegExp(name, flags);
    this.trail = new RegExp(`\\s*[^".]*?${name}[^".]*?[.!]`, `${flags}y`);
    const role = `(${anyCase(roles.truthful)}|${anyCase(roles.liar)})(?![A-Za-z-])`;
    // Any words before "is" are taken as the name and looked up afterwards: much faster
    // than an alternation of every name at each position.
    this.leaf = new RegExp(`([^\\s",.()][^",.()]*?)\\s+is\\s+(not\\s+)?an?\\s+${role}`, 'y');
    this.truthful = roles.truthful.toLowerCase();
  }

  private readonly truthful: string;
  private readonly firstName: RegExp;

  all(): Statement[] {
    const said: (Statement | undefined)[] = new Array<Statement | undefined>(this.names.length);
    const where: number[] = [];
    for (let sentence = 1; this.skipSpace() < this.body.length; sentence++) {
      const start = this.pos;
      const fail = (reason: string): never => {
        throw new QuizParseError(reason, sentence, sentenceAt(this.body, start));
      };
      let r: { speaker: number; statement: Statement };
      try {
        r = this.sentence();
      } catch (e) {
        if (e instanceof ClaimError) return fail(e.message);
        throw e;
      }
      if (said[r.speaker] !== undefined) {
        fail(`${this.names[r.speaker]} already spoke in sentence ${where[r.speaker]}; each islander makes one statement`);
      }
      said[r.speaker] = r.statement;
      where[r.speaker] = sentence;
    }
    const silent = this.names.filter((_, i) => said[i] === undefined);
    if (silent.length > 0) throw new QuizParseError(`no statement found for ${silent.join(', ')}`);
    return said as Statement[];
  }

  private skipSpace(): number {
    while (this.body[this.pos] === ' ') this.pos++;
    return this.pos;
  }

  private match(re: RegExp): RegExpExecArray | null {
    re.lastIndex = this.pos;
    const m = re.exec(this.body);
    if (m) this.pos = re.lastIndex;
    return m;
  }

  private expect(re: RegExp, what: string): RegExpExecArray {
    const m = this.match(re);
    if (!m) throw new ClaimError(`expected ${what} at ${JSON.stringify(this.body.slice(this.pos, this.pos + 30))}`);
    return m;
  }

  private speakerOf(name: string): number {
    return this.nameIndex.get(name) as number;
  }

  /**
   * A leading frame: text up to the first `, "`, `: "`, `"` or ` that ` (before any
   * period), whose first name is the speaker.
   */
  private leadFrame(): { speaker: number; quoted: boolean } | null {
    const { body, pos } = this;
    if (body[pos] === '"') return null;
    const quote = body.indexOf('"', pos);
    const that = body.indexOf(' that ', pos);
    const period = body.indexOf('.', pos);
    const quoted = quote >= 0 && (that < 0 || quote < that);
    const end = quoted ? quote : that;
    if (end < 0 || (period >= 0 && period < end)) return null;
    const m = this.firstName.exec(body.slice(pos, end));
    if (!m) return null;
    this.pos = quoted ? end + 1 : end + ' that '.length;
    return { speaker: this.speakerOf(m[1] as string), quoted };
  }

  private sentence(): { speaker: number; statement: Statement } {
    const lead = this.leadFrame();
    if (lead) {
      const statement = this.claim();
      if (lead.quoted) {
        this.expect(/\s*[,.!]?\s*"\s*[.!]?/y, 'the closing quote');
      } else {
        this.expect(/\s*[.!]/y, 'the end of the sentence');
      }
      return { speaker: lead.speaker, statement };
    }
    this.expect(/"\s*/y, 'a speaker followed by `, "`, `: "` or ` that`, or a quoted claim');
    const statement = this.claim();
    this.expect(/\s*[,.!]?\s*"/y, 'the closing quote');
    const trail = this.match(this.trail);
    if (!trail) throw new ClaimError('a quoted claim must be followed by its speaker ("…," Zoey said.)');
    return { speaker: this.speakerOf(trail[1] as string), statement };
  }

  private claim(): Statement {
    if (this.match(/[Ii]t is not the case that\s+/y)) return { op: 'not', arg: this.operand() };
    if (this.match(/[Ii]f\s+(?!and only if)/y)) {
      const a = this.operand();
      this.expect(/\s*,?\s*then\s+/y, '"then"');
      return { op: 'implies', args: [a, this.operand()] };
    }
    const first = this.operand();
    if (this.match(/\s+if and only if\s+/y)) return { op: 'iff', args: [first, this.operand()] };
    const args = [first];
    let op: 'and' | 'or' | undefined;
    for (;;) {
      const save = this.pos;
      const sep = this.match(/\s*,\s*(?:(and|or)\s+)?|\s+(and|or)\s+/y);
      if (!sep || !this.atOperand()) {
        this.pos = save;
        break;
      }
      const conj = (sep[1] ?? sep[2])?.toLowerCase() as 'and' | 'or' | undefined;
      if (conj && op && conj !== op) throw new ClaimError(`mixes "and" and "or" without parentheses`);
      op = conj ?? op;
      args.push(this.operand());
      if (conj) break;
    }
    if (op && this.match(/\s+(and|or)\s+/y)) throw new ClaimError(`mixes "and" and "or" without parentheses`);
    if (args.length === 1) return first;
    if (!op) throw new ClaimError('a list of claims needs "and" or "or" before its last item');
    return { op, args };
  }

  private atOperand(): boolean {
    if (this.body[this.pos] === '(') return true;
    this.leaf.lastIndex = this.pos;
    const m = this.leaf.exec(this.body);
    return m !== null && this.nameIndex.has(m[1] as string);
  }

  private operand(): Statement {
    if (this.match(/\(\s*/y)) {
      const inner = this.claim();
      this.expect(/\s*\)/y, 'a closing parenthesis');
      return inner;
    }
    const at = this.pos;
    const m = this.expect(this.leaf, 'a claim such as "Zoey is a knight"');
    const who = this.nameIndex.get(m[1] as string);
    if (who === undefined) {
      this.pos = at;
      throw new ClaimError(`"${m[1]}" is not one of the islanders (${this.names.join(', ')})`);
    }
    const truthful = (m[3] as string).toLowerCase() === this.truthful;
    const leaf: Statement = truthful ? { op: 'knight', who } : { op: 'knave', who };
    return m[2] ? { op: 'not', arg: leaf } : leaf;
  }
}

class ClaimError extends Error {}

/** The sentence starting at `start`, for error messages: up to a period outside quotes. */
function sentenceAt(body: string, start: number): string {
  const m = /^(?:[^".]|"[^"]*")*?[.!?](?=\s|$)/.exec(body.slice(start));
  return (m ? m[0] : body.slice(start, start + 120)).trim();
}
