/**
 * The traces stage: puzzles$ → prompt → n teacher samples → K&K verification → filter
 * → trace records, one group per puzzle (so a group can be written as one batch).
 */
import { from, map, mergeMap, type OperatorFunction } from 'rxjs';
import type { Puzzle } from '../kk/puzzle.js';
import { extractAnswerBlock } from '../kk/parse-answer.js';
import type { TraceRecord } from '../data/schemas.js';
import { scoreKK } from '../reward/kk.js';
import { renderPrompt, templateTag, type PromptTemplate } from '../teacher/templates.js';
import type { Teacher, TeacherSampleOptions } from '../teacher/types.js';

/** Which samples become traces. */
export interface TraceFilter {
  /** 'correct-only' keeps verified traces (rejection sampling); 'all' keeps every sample, as the paper did. */
  readonly keep: 'correct-only' | 'all';
  /** Drop samples longer than this many tokens (0: no limit). */
  readonly maxTokens: number;
  /** Drop repeated completions of the same puzzle. */
  readonly dedup: boolean;
}

export const DEFAULT_TRACE_FILTER: TraceFilter = { keep: 'correct-only', maxTokens: 0, dedup: true };

export interface TracesDeps {
  readonly teacher: Teacher;
  readonly template: PromptTemplate;
  readonly sample: Omit<TeacherSampleOptions, 'signal'>;
  readonly filter?: TraceFilter;
  /** Puzzles sampled at once (remote teachers: the request concurrency). */
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
}

/** All samples of one puzzle, with how many were kept. */
export interface PuzzleTraces {
  readonly puzzle: Puzzle;
  /** Every sample, verified. */
  readonly sampled: readonly TraceRecord[];
  /** The ones the filter kept. */
  readonly kept: readonly TraceRecord[];
}

/** Verifies one completion against its puzzle (the paper's K&K scheme). */
export function traceRecord(puzzle: Puzzle, prompt: string, template: PromptTemplate, teacherId: string, sampleIdx: number, c: { text: string; nTokens: number; latencyMs: number; finishReason: string; status: string }): TraceRecord {
  const row = { names: [...puzzle.names], solution: [...puzzle.solution], roles: [puzzle.roles.truthful, puzzle.roles.liar] };
  const scored = c.status === 'ok' || c.status === 'truncated' ? scoreKK({ prompt, completion: c.text, row }) : null;
  const block = extractAnswerBlock(c.text);
  return {
    puzzle_id: puzzle.id,
    teacher: teacherId,
    template: templateTag(template),
    sample_idx: sampleIdx,
    prompt,
    completion: c.text,
    answer: block.ok ? block.answer.trim() : null,
    correct: scored ? scored.status === 'ok' : null,
    reward: scored ? scored.score : null,
    n_tokens: c.nTokens,
    latency_ms: c.latencyMs,
    finish_reason: c.finishReason,
    status: c.status,
  };
}

/**
 * @example
 * puzzles$.pipe(traces({ teacher: makeSymbolicTeacher(), template: R1_TEMPLATE, sample: { n: 4, … } }))
 */
export function traces(deps: TracesDeps): OperatorFunction<Puzzle, PuzzleTraces> {
  const filter = deps.filter ?? DEFAULT_TRACE_FILTER;
  return mergeMap((puzzle: Puzzle) => {
    const prompt = renderPrompt(deps.template, { quiz: puzzle.quiz, names: puzzle.names });
    return from(deps.teacher.sample(prompt, { ...deps.sample, ...(deps.signal ? { signal: deps.signal } : {}) }, puzzle)).pipe(
        map((completions) => {
          const sampled = completions.map((c, i) => traceRecord(puzzle, prompt, deps.template, deps.teacher.id, i, c));
          const seen = new Set<string>();
          const kept = sampled.filter((t) => {
            if (filter.keep === 'correct-only' && t.correct !== true) return false;
            if (filter.maxTokens > 0 && t.n_tokens > filter.maxTokens) return false;
            if (filter.dedup) {
              if (seen.has(t.completion)) return false;
              seen.add(t.completion);
            }
            return true;
          });
          return { puzzle, sampled, kept };
        }),
      );
  }, deps.concurrency ?? 4);
}

/** End-of-run statistics: kept/total, accuracy by islander count, token length percentiles. */
export interface TraceStats {
  puzzles: number;
  sampled: number;
  kept: number;
  accuracyByN: Record<string, { sampled: number; correct: number; accuracy: number }>;
  tokens: { p50: number; p90: number; p99: number; max: number } | null;
}

/** Accumulates statistics over puzzle groups. */
export class TraceStatsCollector {
  private puzzles = 0;
  private sampled = 0;
  private kept = 0;
  private readonly byN = new Map<number, { sampled: number; correct: number }>();
  private readonly lengths: number[] = [];

  add(group: PuzzleTraces): void {
    this.puzzles++;
    this.sampled += group.sampled.length;
    this.kept += group.kept.length;
    const n = group.puzzle.names.length;
    const s = this.byN.get(n) ?? { sampled: 0, correct: 0 };
    s.sampled += group.sampled.length;
    s.correct += group.sampled.filter((t) => t.correct === true).length;
    this.byN.set(n, s);
    for (const t of group.kept) this.lengths.push(t.n_tokens);
  }

  result(): TraceStats {
    const sorted = [...this.lengths].sort((a, b) => a - b);
    const q = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;
    return {
      puzzles: this.puzzles,
      sampled: this.sampled,
      kept: this.kept,
      accuracyByN: Object.fromEntries(
        [...this.byN].sort((a, b) => a[0] - b[0]).map(([n, s]) => [`N=${n}`, { ...s, accuracy: s.sampled ? s.correct / s.sampled : 0 }]),
      ),
      tokens: sorted.length > 0 ? { p50: q(0.5), p90: q(0.9), p99: q(0.99), max: sorted[sorted.length - 1] as number } : null,
    };
  }
}
