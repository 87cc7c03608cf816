/**
 * Reads a model's final K&K answer into a role assignment.
 *
 * The expected form is the dataset's `solution_text_format` inside answer tags:
 * `<answer>(1) Zoey is a knight\n(2) Oliver is a knave</answer>`. Models add noise, so
 * the parser accepts any order, missing numbering, markdown emphasis, "Zoey: knight",
 * "Zoey - a knave", "Zoey is not a knight" and stray case. It refuses to guess: a
 * missing or contradicted islander is an error that says who and why.
 */
import type { RolePair } from './names.js';
import { escapeRegExp } from '../util/text.js';

/** Why an answer could not be read. */
export type AnswerErrorCode = 'no_answer_tag' | 'unclosed_answer_tag' | 'empty_answer' | 'missing_person' | 'conflicting_roles';

export type AnswerParseResult =
  | { readonly ok: true; readonly assignment: boolean[]; readonly answer: string }
  | { readonly ok: false; readonly code: AnswerErrorCode; readonly reason: string; readonly answer: string | null };

export interface ParseAnswerOptions {
  /** Read the whole text when there is no `<answer>` block (default false: the tag is required). */
  readonly requireTag?: boolean;
}


/**
 * The text of the last `<answer>…</answer>` block, or an error code. Tags are matched
 * case-insensitively and may carry spaces (`< answer >`).
 */
export function extractAnswerBlock(text: string): { ok: true; answer: string } | { ok: false; code: AnswerErrorCode } {
  const opens = [...text.matchAll(/<\s*answer\s*>/gi)];
  const last = opens[opens.length - 1];
  if (!last) return { ok: false, code: 'no_answer_tag' };
  const start = last.index + last[0].length;
  const close = /<\s*\/\s*answer\s*>/i.exec(text.slice(start));
  if (!close) return { ok: false, code: 'unclosed_answer_tag' };
  return { ok: true, answer: text.slice(start, start + close.index) };
}

/** Parses the answer in `text` for islanders `names` with role words `roles`. */
export function parseAnswer(
  text: string,
  names: readonly string[],
  roles: RolePair,
  options: ParseAnswerOptions = {},
): AnswerParseResult {
  let answer = text;
  if (options.requireTag !== false || /<\s*answer\s*>/i.test(text)) {
    const block = extractAnswerBlock(text);
    if (!block.ok) {
      const reason =
        block.code === 'no_answer_tag' ? 'no <answer>…</answer> block in the text' : 'the last <answer> tag is never closed';
      return { ok: false, code: block.code, reason, answer: null };
    }
    answer = block.answer;
  }
  // Markdown emphasis, code ticks and LaTeX text wrappers carry no meaning here.
  const clean = answer
    .replace(/\\text\{([^}]*)\}/g, '$1')
    .replace(/[*_`~]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  if (clean === '') return { ok: false, code: 'empty_answer', reason: 'the answer block is empty', answer };
  const role = `(${escapeRegExp(roles.truthful)}|${escapeRegExp(roles.liar)})s?(?![\\p{L}])`;
  const assignment: boolean[] = [];
  for (const name of names) {
    const re = new RegExp(
      `(?<![\\p{L}])${escapeRegExp(name)}(?![\\p{L}])(?:'s)?\\s*(?:[:=\\-–—(,]\\s*)?(?:is\\s+|was\\s+|are\\s+)?(not\\s+)?(?:(?:a|an|the)\\s+)?${role}`,
      'giu',
    );
    const claims = new Set<boolean>();
    for (const m of clean.matchAll(re)) {
      const truthful = (m[2] as string).toLowerCase() === roles.truthful.toLowerCase();
      claims.add(m[1] ? !truthful : truthful);
    }
    if (claims.size === 0) {
      return { ok: false, code: 'missing_person', reason: `no role given for ${name}`, answer };
    }
    if (claims.size > 1) {
      return {
        ok: false,
        code: 'conflicting_roles',
        reason: `${name} is called both ${roles.truthful} and ${roles.liar}`,
        answer,
      };
    }
    assignment.push([...claims][0] as boolean);
  }
  return { ok: true, assignment, answer };
}
