/**
 * The embedded symbolic teacher: writes a long chain of thought for a K&K puzzle from
 * the solver's own search, in the manner of a reasoning model. It restates the claims,
 * supposes a role for one islander, follows the consequences through the statements,
 * runs into contradictions and backtracks, verifies the final assignment against every
 * statement, and closes with `<answer>(1) … (2) …</answer>`.
 *
 * The search is depth-first with propagation: once an islander's role is fixed, their
 * statement must be true (knight) or false (knave); a statement about a single islander
 * then fixes that islander, and a statement whose truth is already decided fixes its
 * speaker. Every trace ends in the unique solution, so every trace is correct; an
 * optional slip rate inserts a wrong inference that the trace notices and corrects.
 */
import { deriveSeed, Rng } from '../util/rng.js';
import { withArticle, type RolePair } from '../kk/names.js';
import type { Puzzle } from '../kk/puzzle.js';
import { renderStatement, renderSolutionTextFormat } from '../kk/render.js';
import type { Statement } from '../kk/statement.js';
import type { Teacher } from './types.js';
import { casesTrace } from './cases.js';
import { capitalise } from '../util/text.js';

export interface SymbolicTeacherConfig {
  /** How much is said: short skips the restatement and verification prose. */
  readonly verbosity: 'short' | 'normal' | 'long';
  /** Which islander to suppose about next. */
  readonly order: 'fixed' | 'most-constrained' | 'random';
  /** Chance per supposition of a deliberate slip that the trace then corrects. */
  readonly slipRate: number;
  /** Open with "<think>" (false when the prompt template already opened it). */
  readonly openThink: boolean;
  /**
   * search: suppose, propagate and backtrack; cases: check every assignment in order
   * (cases.ts), for small students; numbered: cases with the islanders numbered.
   */
  readonly style: TraceStyle;
}

/** The symbolic teacher's trace styles. */
export const TRACE_STYLES = ['search', 'cases', 'numbered'] as const;
export type TraceStyle = (typeof TRACE_STYLES)[number];

export const DEFAULT_SYMBOLIC: SymbolicTeacherConfig = { verbosity: 'normal', order: 'most-constrained', slipRate: 0, openThink: true, style: 'search' };

type Assignment = (boolean | undefined)[];

/** Three-valued evaluation under a partial assignment: undefined when not yet decided. */
function evalPartial(s: Statement, a: Assignment): boolean | undefined {
  switch (s.op) {
    case 'knight':
      return a[s.who];
    case 'knave':
      return a[s.who] === undefined ? undefined : !a[s.who];
    case 'not': {
      const v = evalPartial(s.arg, a);
      return v === undefined ? undefined : !v;
    }
    case 'and': {
      let unknown = false;
      for (const x of s.args) {
        const v = evalPartial(x, a);
        if (v === false) return false;
        if (v === undefined) unknown = true;
      }
      return unknown ? undefined : true;
    }
    case 'or': {
      let unknown = false;
      for (const x of s.args) {
        const v = evalPartial(x, a);
        if (v === true) return true;
        if (v === undefined) unknown = true;
      }
      return unknown ? undefined : false;
    }
    case 'implies': {
      const p = evalPartial(s.args[0], a);
      const q = evalPartial(s.args[1], a);
      if (p === false || q === true) return true;
      if (p === true && q === false) return false;
      return undefined;
    }
    case 'iff': {
      const p = evalPartial(s.args[0], a);
      const q = evalPartial(s.args[1], a);
      return p === undefined || q === undefined ? undefined : p === q;
    }
  }
}

/** When statement `s` must have truth `value`, the one islander and role it fixes, if it is a single claim. */
function forcedBy(s: Statement, value: boolean): { who: number; knight: boolean } | null {
  if (s.op === 'knight') return { who: s.who, knight: value };
  if (s.op === 'knave') return { who: s.who, knight: !value };
  if (s.op === 'not') return forcedBy(s.arg, !value);
  if (s.op === 'and' && value) return null;
  return null;
}

const pick = <T>(rng: Rng, xs: readonly T[]): T => rng.pick(xs);

/** Writes a chain of thought for `puzzle`; deterministic for a seed. */
export function symbolicTrace(puzzle: Puzzle, config: Partial<SymbolicTeacherConfig> = {}, seed = 0): string {
  const c = { ...DEFAULT_SYMBOLIC, ...config };
  const rng = new Rng(deriveSeed(seed, 0x7ea));
  const { names, roles, statements } = puzzle;
  const n = names.length;
  const role = (k: boolean): string => withArticle(k ? roles.truthful : roles.liar);
  const claim = (i: number): string => renderStatement(statements[i] as Statement, names, roles);
  const lines: string[] = [];
  const say = (s: string): void => {
    lines.push(s);
  };

  say(pick(rng, ["Let's think step by step.", 'Let me work through this carefully.', 'I need to figure out who is lying and who is telling the truth.']));
  if (c.verbosity !== 'short') {
    say(`${pick(rng, ['First, the claims:', 'Let me restate what everyone says:', 'The statements are:'])}`);
    names.forEach((name, i) => say(`- ${name} says: ${claim(i)}.`));
    say(`${capitalise(roles.truthful)}s always tell the truth and ${roles.liar}s always lie, so each statement is true exactly when its speaker is ${role(true)}.`);
  }

  const assignment: Assignment = new Array<boolean | undefined>(n).fill(undefined);
  const mentionCount = statements.map(() => 0);
  statements.forEach((s) => countMentions(s, mentionCount));

  /** Propagates consequences; returns a contradiction message or null. */
  const propagate = (a: Assignment, narrate: (s: string) => void): string | null => {
    for (let changed = true; changed; ) {
      changed = false;
      for (let i = 0; i < n; i++) {
        const s = statements[i] as Statement;
        const v = evalPartial(s, a);
        if (a[i] !== undefined) {
          if (v !== undefined && v !== a[i]) {
            return `${names[i]} is ${role(a[i] as boolean)}, so "${claim(i)}" would have to be ${a[i] ? 'true' : 'false'}, but it is ${v ? 'true' : 'false'}`;
          }
          if (v === undefined) {
            const f = forcedBy(s, a[i] as boolean);
            if (f && a[f.who] === undefined) {
              a[f.who] = f.knight;
              changed = true;
              narrate(`${names[i]} is ${role(a[i] as boolean)}, so the claim "${claim(i)}" is ${a[i] ? 'true' : 'false'}; that makes ${names[f.who]} ${role(f.knight)}.`);
            } else if (f && a[f.who] !== f.knight) {
              return `${names[i]}'s claim "${claim(i)}" would make ${names[f.who]} ${role(f.knight)}, but ${names[f.who]} is ${role(a[f.who] as boolean)}`;
            }
          }
        } else if (v !== undefined) {
          a[i] = v;
          changed = true;
          narrate(`${names[i]}'s claim "${claim(i)}" is ${v ? 'true' : 'false'} now, so ${names[i]} must be ${role(v)}.`);
        }
      }
    }
    return null;
  };

  const chooseNext = (a: Assignment): number => {
    const open = a.map((v, i) => (v === undefined ? i : -1)).filter((i) => i >= 0);
    if (c.order === 'fixed') return open[0] as number;
    if (c.order === 'random') return rng.pick(open);
    return open.reduce((best, i) => ((mentionCount[i] as number) > (mentionCount[best] as number) ? i : best), open[0] as number);
  };

  const search = (a: Assignment, depth: number): Assignment | null => {
    if (a.every((v) => v !== undefined)) return a;
    const p = chooseNext(a);
    const first = c.order === 'random' ? rng.int(2) === 0 : true;
    for (const knight of [first, !first]) {
      const b = a.slice();
      b[p] = knight;
      const indent = '  '.repeat(Math.min(depth, 3));
      say(`${indent}${pick(rng, ['Suppose', 'Assume', 'Let me try assuming'])} ${names[p]} is ${role(knight)}.`);
      if (c.slipRate > 0 && rng.float() < c.slipRate) {
        const wrong = !knight;
        say(`${indent}Then ${names[p]}'s statement "${claim(p)}" would be ${wrong ? 'true' : 'false'}…`);
        say(`${indent}${pick(rng, ['Wait, that contradicts what I just assumed:', 'Hold on, that is backwards:', 'No, wait:'])} ${names[p]} is ${role(knight)}, so the statement must be ${knight ? 'true' : 'false'}.`);
      }
      const contradiction = propagate(b, (s) => say(`${indent}${s}`));
      if (contradiction) {
        say(`${indent}${pick(rng, ['But', 'However,', 'This fails:'])} ${contradiction}. ${pick(rng, ['Contradiction.', 'That is a contradiction.', 'So this case is impossible.'])}`);
        say(`${indent}So ${names[p]} cannot be ${role(knight)}.`);
        continue;
      }
      const found = search(b, depth + 1);
      if (found) return found;
      say(`${indent}Every case under "${names[p]} is ${role(knight)}" fails, so ${names[p]} cannot be ${role(knight)}.`);
    }
    return null;
  };

  const start = assignment.slice();
  const rootContradiction = propagate(start, say);
  const solution = rootContradiction ? null : search(start, 0);
  if (!solution) throw new Error(`symbolic teacher: puzzle ${puzzle.id} has no consistent assignment`);
  const final = solution.map((v) => v === true);
  if (final.some((v, i) => v !== puzzle.solution[i])) {
    throw new Error(`symbolic teacher: puzzle ${puzzle.id}: search found ${final.join(',')} but the recorded solution is ${puzzle.solution.join(',')}`);
  }
  say(`${pick(rng, ['So the assignment is:', 'That gives:', 'Everything fits with:'])} ${names.map((name, i) => `${name} is ${role(final[i] as boolean)}`).join(', ')}.`);
  if (c.verbosity !== 'short') {
    say(pick(rng, ['Let me verify every statement:', 'Checking every statement:', 'Let me double-check each claim:']));
    names.forEach((name, i) => {
      const truth = final[i] as boolean;
      say(`- ${name} (${roles[truth ? 'truthful' : 'liar']}) says "${claim(i)}", which is ${truth ? 'true' : 'false'}, as it must be.`);
    });
  }
  if (c.verbosity === 'long') say('All statements are consistent, and the search above ruled out every other case, so this is the only solution.');
  const think = lines.join('\n');
  return `${c.openThink ? '<think>' : ''}${think}\n</think>\n<answer>${renderSolutionTextFormat(names, roles, final)}</answer>`;
}

function countMentions(s: Statement, counts: number[]): void {
  if (s.op === 'knight' || s.op === 'knave') counts[s.who] = (counts[s.who] ?? 0) + 1;
  else if (s.op === 'not') countMentions(s.arg, counts);
  else for (const x of s.args) countMentions(x, counts);
}

export type { RolePair };

/** The symbolic teacher behind the Teacher interface (it needs the puzzle, not the prompt). */
export function makeSymbolicTeacher(config: Partial<SymbolicTeacherConfig> = {}, countTokens: (s: string) => number = (s) => Math.ceil(s.length / 4)): Teacher {
  return {
    id: 'symbolic',
    sample(prompt, options, puzzle) {
      if (!puzzle) throw new Error('the symbolic teacher needs the puzzle itself, not only its prompt');
      const openThink = !prompt.trimEnd().endsWith('<think>');
      return Promise.resolve(
        Array.from({ length: options.n }, (_, k) => {
          const t0 = performance.now();
          // Different samples of one puzzle differ: another search order and phrasing.
          const text = config.style !== 'search' ? casesTrace(puzzle, openThink, config.style === 'numbered') : symbolicTrace(puzzle, { ...config, openThink, ...(options.n > 1 && k > 0 ? { order: 'random' as const } : {}) }, (puzzle.seed ?? 0) + k);
          return { text, nTokens: countTokens(text), latencyMs: performance.now() - t0, finishReason: 'stop', status: 'ok' };
        }),
      );
    },
  };
}
