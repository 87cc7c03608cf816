/**
 * Renders puzzles as text in the style of the K&K dataset (Xie et al. 2024):
 *
 *   A very special island is inhabited only by knights and knaves. Knights always tell
 *   the truth, and knaves always lie. You meet 3 inhabitants: Zoey, Oliver, and Ethan.
 *   Zoey says, "Oliver is not a knight." … So who is a knight and who is a knave?
 *
 * Role claims and their negations render bare; any compound operand is wrapped in
 * parentheses, so deeper trees than the dataset's stay unambiguous to a reader and to
 * `parseQuiz`.
 */
import { liarPlural, truthfulPlural, withArticle, type RolePair } from './names.js';
import { isLiteral, type Statement } from './statement.js';
import { capitalise } from '../util/text.js';

/**
 * How an islander's statement is framed. `{name}` is the speaker, `{statement}` the
 * claim. Quoted frames get the claim capitalised; "that" frames keep it lower case.
 * These are warmup's own phrasings; the parser also reads the K&K dataset's.
 */
export const DEFAULT_TEMPLATES: readonly string[] = [
  '{name} says, "{statement}."',
  '{name} insists: "{statement}."',
  '"{statement}," {name} replies.',
  '{name} tells you that {statement}.',
  '{name} claims that {statement}.',
  'When asked, {name} answers: "{statement}."',
  '"{statement}," says {name}.',
  '{name} swears that {statement}.',
  'Speaking up, {name} declares, "{statement}."',
  '"{statement}" - {name}.',
];

/** Checks a frame template's placeholders; the rest is free text. */
export function checkTemplate(template: string): string {
  const count = (p: string): number => template.split(p).length - 1;
  if (count('{name}') !== 1 || count('{statement}') !== 1) {
    throw new Error(
      `bad statement template ${JSON.stringify(template)}: it needs exactly one {name} and one {statement}`,
    );
  }
  return template;
}


/** "A", "A and B", "A, B, and C". */
export function joinList(items: readonly string[], conj = 'and'): string {
  if (items.length <= 2) return items.join(` ${conj} `);
  return `${items.slice(0, -1).join(', ')}, ${conj} ${items[items.length - 1] as string}`;
}

/**
 * The claim text of a statement, starting lower case ("if Zoey is a knight then …").
 * `note`, when given, is appended after every role claim and every parenthesised
 * operand (a case-checking trace writes each part's truth there: "Zoey is a knight (true)").
 */
export function renderStatement(s: Statement, names: readonly string[], roles: RolePair, note?: (part: Statement) => string): string {
  const name = (i: number): string => {
    const n = names[i];
    if (n === undefined) throw new RangeError(`statement mentions person ${i}, but there are ${names.length} names`);
    return n;
  };
  const operand = (x: Statement): string => (isLiteral(x) ? claim(x) : `(${claim(x)})${note ? note(x) : ''}`);
  const claim = (x: Statement): string => (isLiteral(x) && note ? `${bare(x)}${note(x)}` : bare(x));
  const bare = (x: Statement): string => {
    switch (x.op) {
      case 'knight':
        return `${name(x.who)} is ${withArticle(roles.truthful)}`;
      case 'knave':
        return `${name(x.who)} is ${withArticle(roles.liar)}`;
      case 'not':
        if (x.arg.op === 'knight') return `${name(x.arg.who)} is not ${withArticle(roles.truthful)}`;
        if (x.arg.op === 'knave') return `${name(x.arg.who)} is not ${withArticle(roles.liar)}`;
        return `it is not the case that ${operand(x.arg)}`;
      case 'and':
      case 'or':
        return joinList(x.args.map(operand), x.op);
      case 'implies':
        return `if ${operand(x.args[0])} then ${operand(x.args[1])}`;
      case 'iff':
        return `${operand(x.args[0])} if and only if ${operand(x.args[1])}`;
    }
  };
  return claim(s);
}

const quotedTemplates = new Map<string, boolean>();

/** One statement sentence, framed by `template`. */
export function renderSentence(template: string, speaker: string, claim: string): string {
  let quoted = quotedTemplates.get(template);
  if (quoted === undefined) {
    quoted = /"\{statement\}|\{statement\}[^"]*"/.test(template);
    quotedTemplates.set(template, quoted);
  }
  return template.replace('{name}', speaker).replace('{statement}', quoted ? capitalise(claim) : claim);
}

/** The opening that names the roles and the islanders. */
export function renderIntro(names: readonly string[], roles: RolePair): string {
  const tp = truthfulPlural(roles);
  const lp = liarPlural(roles);
  const who = names.length === 1 ? 'inhabitant' : 'inhabitants';
  return (
    `A very special island is inhabited only by ${tp} and ${lp}. ` +
    `${capitalise(tp)} always tell the truth, and ${lp} always lie. ` +
    `You meet ${names.length} ${who}: ${joinList(names)}.`
  );
}

/** The closing question. */
export const renderQuestion = (roles: RolePair): string =>
  `So who is ${withArticle(roles.truthful)} and who is ${withArticle(roles.liar)}?`;

/** The whole quiz: intro, one sentence per islander (in `templateFor(i)`'s frame), question. */
export function renderQuiz(
  names: readonly string[],
  roles: RolePair,
  statements: readonly Statement[],
  templateFor: (person: number) => string,
): string {
  const sentences = statements.map((s, i) =>
    renderSentence(templateFor(i), names[i] as string, renderStatement(s, names, roles)),
  );
  return `${renderIntro(names, roles)} ${sentences.join(' ')} ${renderQuestion(roles)}`;
}

const roleOf = (roles: RolePair, isKnight: boolean | undefined): string =>
  withArticle(isKnight ? roles.truthful : roles.liar);

/** "Zoey is a knight, Oliver is a knave, and Ethan is a knight." */
export function renderSolutionText(names: readonly string[], roles: RolePair, solution: readonly boolean[]): string {
  return `${joinList(names.map((n, i) => `${n} is ${roleOf(roles, solution[i])}`))}.`;
}

/** "(1) Zoey is a knight\n(2) Oliver is a knave" — the format answers are graded in. */
export function renderSolutionTextFormat(
  names: readonly string[],
  roles: RolePair,
  solution: readonly boolean[],
): string {
  return names.map((n, i) => `(${i + 1}) ${n} is ${roleOf(roles, solution[i])}`).join('\n');
}
