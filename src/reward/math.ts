/**
 * Math answers: extract the last `\boxed{…}` and decide equivalence with the reference.
 *
 * extract → normalise → compare. Normalisation removes presentation only (`\left`,
 * `\dfrac`, `^\circ`, `\%`, trailing units in `\text{…}`, `x =`, thousands
 * separators); comparison then tries, in order: identical text, text answers
 * (case-insensitive words), element-wise tuples / intervals / sets, and the Cortex
 * Compute Engine (symbolic `isEqual`, then numeric value within a relative tolerance).
 */
import { createRequire } from 'node:module';
import type { ComputeEngine } from '@cortex-js/compute-engine';
import { checkOptionNames, groundTruth, makeResult, numberOption, type RewardModule, type RewardOptions, type RewardResult, type RewardSample } from './types.js';

/** The content of the last `\boxed{…}` (or `\fbox{…}`) in `text`, braces balanced; null if none. */
export function lastBoxed(text: string): string | null {
  const at = Math.max(text.lastIndexOf('\\boxed'), text.lastIndexOf('\\fbox'));
  if (at < 0) return null;
  let i = text.indexOf(text.startsWith('\\boxed', at) ? '\\boxed' : '\\fbox', at);
  i += text.startsWith('\\boxed', at) ? 6 : 5;
  while (text[i] === ' ') i++;
  if (text[i] !== '{') {
    // "\boxed 5": the next token.
    const m = /^[^\s$]+/.exec(text.slice(i));
    return m ? m[0] : null;
  }
  let depth = 0;
  for (let j = i; j < text.length; j++) {
    if (text[j] === '\\') {
      j++;
      continue;
    }
    if (text[j] === '{') depth++;
    else if (text[j] === '}' && --depth === 0) return text.slice(i + 1, j);
  }
  return null;
}

/** Removes presentation from a LaTeX answer. */
export function normalizeAnswer(answer: string): string {
  let s = answer.trim();
  s = s.replace(/^\$+|\$+$/g, '').trim();
  s = s.replace(/\\(?:left|right|big|Big|bigg|Bigg)(?![a-zA-Z])/g, '');
  s = s.replace(/\\[!,;: ]|\\quad|\\qquad|~/g, ' ');
  s = s.replace(/\\displaystyle/g, '');
  s = s.replace(/\\[dt]frac/g, '\\frac');
  s = s.replace(/\^\s*\{?\s*\\circ\s*\}?|°/g, '');
  s = s.replace(/\\%|%/g, '');
  s = s.replace(/\\mbox\{/g, '\\text{').replace(/\\textbf\{/g, '\\text{').replace(/\\mathrm\{/g, '\\text{');
  // A number followed by a unit in \text{…}: keep the number.
  s = s.replace(/^([-+\d.,\\{}a-z^]*\d[\d}]*)\s*\\text\{\s*[a-zA-Z ]+\}$/, '$1');
  // "x = 5", "k=-3": keep the value when the left side is a lone variable.
  s = s.replace(/^[a-zA-Z]\s*=\s*/, '');
  // Thousands separators: "1,000" or "1{,}000" (not tuples).
  if (/^-?\d{1,3}((\{,\}|,)\d{3})+(\.\d+)?$/.test(s)) s = s.replace(/\{,\}|,/g, '');
  s = s.replace(/\.$/, '');
  s = s.replace(/\s+/g, ' ').trim();
  return s;
}

let engine: ComputeEngine | null = null;
// Loaded on first use (its CommonJS build, synchronously): importing it costs ~0.15 s,
// which every CLI command would otherwise pay at start-up.
const ce = (): ComputeEngine => {
  if (!engine) {
    const { ComputeEngine: Engine } = createRequire(import.meta.url)('@cortex-js/compute-engine') as { ComputeEngine: new () => ComputeEngine };
    engine = new Engine();
  }
  return engine;
};

const TEXT = /^\\text\{([^{}]*)\}$/;
const words = (s: string): string =>
  s
    .replace(TEXT, '$1')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();

/** Splits "a, b, c" at top-level commas. */
function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && i + 1 < s.length) {
      i++;
      continue;
    }
    if (c === '{' || c === '(' || c === '[') depth++;
    else if (c === '}' || c === ')' || c === ']') depth--;
    else if (c === ',' && depth === 0) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  out.push(s.slice(start));
  return out.map((x) => x.trim());
}

/** "(a, b]" → brackets and items, for tuples, intervals and sets. */
function asSequence(s: string): { open: string; close: string; items: string[] } | null {
  const m = /^(\(|\[|\\\{)([\s\S]*)(\)|\]|\\\})$/.exec(s);
  if (!m) return null;
  const items = splitTop(m[2] as string);
  return items.length >= 2 ? { open: m[1] as string, close: m[3] as string, items } : null;
}

function numericValue(latex: string): number | null {
  try {
    const v = ce().parse(latex).N();
    const re = v.re;
    return typeof re === 'number' && Number.isFinite(re) && (v.im === 0 || v.im === undefined || Number.isNaN(v.im)) ? re : null;
  } catch {
    return null;
  }
}

/** Whether two normalised answers are mathematically the same. */
function equivalentNormalized(a: string, b: string, tolerance: number): boolean {
  if (a === b) return true;
  if (a.replace(/\s/g, '') === b.replace(/\s/g, '')) return true;
  const sa = asSequence(a);
  const sb = asSequence(b);
  if (sa || sb) {
    if (!sa || !sb || sa.items.length !== sb.items.length) return false;
    if (sa.open === '\\{' || sb.open === '\\{') {
      // Sets: order does not matter.
      if (sa.open !== sb.open) return false;
      const rest = [...sb.items];
      return sa.items.every((x) => {
        const k = rest.findIndex((y) => equivalentNormalized(x, y, tolerance));
        return k >= 0 && rest.splice(k, 1).length === 1;
      });
    }
    if (sa.open !== sb.open || sa.close !== sb.close) return false;
    return sa.items.every((x, i) => equivalentNormalized(x, sb.items[i] as string, tolerance));
  }
  if (TEXT.test(a) || TEXT.test(b) || (/^[a-zA-Z ]{2,}$/.test(a) && /^[a-zA-Z ]{2,}$/.test(b))) {
    if (words(a) === words(b)) return true;
  }
  try {
    const ea = ce().parse(a);
    const eb = ce().parse(b);
    if (ea.isValid && eb.isValid && ea.isEqual(eb) === true) return true;
  } catch {
    // fall through to numbers
  }
  const na = numericValue(a);
  const nb = numericValue(b);
  if (na === null || nb === null) return false;
  return Math.abs(na - nb) <= tolerance * Math.max(1, Math.abs(na), Math.abs(nb));
}

/** Whether `answer` and `reference` are equivalent math answers (LaTeX). */
export function mathEquivalent(answer: string, reference: string, tolerance = 1e-6): boolean {
  return equivalentNormalized(normalizeAnswer(answer), normalizeAnswer(reference), tolerance);
}

/** The reference answer of a row: `answer`, else the last boxed answer of `solution`, else verl's `reward_model.ground_truth`. */
export function mathReference(row: Readonly<Record<string, unknown>>): string | null {
  if (typeof row.answer === 'string' && row.answer.trim() !== '') return row.answer;
  if (typeof row.answer === 'number') return String(row.answer);
  const boxed = typeof row.solution === 'string' ? lastBoxed(row.solution) : null;
  if (boxed !== null) return boxed;
  const truth = groundTruth(row);
  return typeof truth === 'string' && truth.trim() !== '' ? truth : typeof truth === 'number' ? String(truth) : null;
}

/** The options, checked (`checkOptions`); a bad one throws `RewardOptionError`. */
function mathOptions(options: RewardOptions): { correct: number; wrong: number; tolerance: number } {
  checkOptionNames('math', options, ['correct', 'wrong', 'tolerance']);
  return { correct: numberOption('math', options, 'correct', 1), wrong: numberOption('math', options, 'wrong', 0), tolerance: numberOption('math', options, 'tolerance', 1e-6) };
}

/** Scores a completion's last boxed answer against the row's reference. */
export function scoreMath(sample: RewardSample, options: RewardOptions = {}): RewardResult {
  const { correct, wrong, tolerance } = mathOptions(options);
  const reference = mathReference(sample.row);
  if (reference === null) return makeResult('unscorable', null, 'the row has no reference answer (answer, a boxed answer in solution, or reward_model.ground_truth)');
  const answer = lastBoxed(sample.completion);
  if (answer === null) return makeResult('format_error', wrong, 'no \\boxed{…} answer in the completion', { answer: wrong });
  const ok = mathEquivalent(answer, reference, tolerance);
  return makeResult(ok ? 'ok' : 'wrong', ok ? correct : wrong, ok ? null : `boxed ${JSON.stringify(answer)} is not ${JSON.stringify(reference)}`, {
    answer: ok ? correct : wrong,
  });
}

export const mathReward: RewardModule = {
  id: 'math',
  description: 'last \\boxed{} answer, equivalent to the reference (Compute Engine); options {correct, wrong, tolerance}',
  score: scoreMath,
  checkOptions: mathOptions,
};
