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
 * Samples `concurrency` puzzles at once. Like any `mergeMap`, it queues what its source
 * pushes beyond that, and draining a long queue costs O(its length) per puzzle: on long
 * runs feed it through `onDemand` (`stages/on-demand.ts`), as `warmup traces` does.
 *
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

/**
 * Accumulates statistics over puzzle groups. Adding a group costs O(its samples), and
 * the running totals (`puzzles`, `sampled`, `kept`, `sampledTokens`) are O(1) to read,
 * so a progress line can show them after every puzzle of a run of any length. Token
 * lengths are kept as a histogram (lengths are integers, and few distinct), so
 * `result()` costs O(distinct lengths) instead of sorting every length so far.
 */
export class TraceStatsCollector {
  /** Puzzle groups added. */
  puzzles = 0;
  /** Samples verified. */
  sampled = 0;
  /** Samples the filter kept. */
  kept = 0;
  /** Tokens over every sample, kept or not (the teacher's throughput). */
  sampledTokens = 0;
  private readonly byN = new Map<number, { sampled: number; correct: number }>();
  /** Kept trace length → how many kept traces have it. */
  private readonly lengths = new Map<number, number>();

  add(group: PuzzleTraces): void {
    this.puzzles++;
    this.sampled += group.sampled.length;
    this.kept += group.kept.length;
    const n = group.puzzle.names.length;
    const s = this.byN.get(n) ?? { sampled: 0, correct: 0 };
    s.sampled += group.sampled.length;
    for (const t of group.sampled) {
      if (t.correct === true) s.correct++;
      this.sampledTokens += t.n_tokens;
    }
    this.byN.set(n, s);
    for (const t of group.kept) this.lengths.set(t.n_tokens, (this.lengths.get(t.n_tokens) ?? 0) + 1);
  }

  /**
   * The statistics so far. Percentile p is the length at index min(len − 1, ⌊p · len⌋)
   * of all kept lengths sorted, read off the histogram: the smallest length whose
   * cumulative count exceeds that index.
   */
  result(): TraceStats {
    const histogram = [...this.lengths].sort((a, b) => a[0] - b[0]);
    const total = this.kept;
    const at = (index: number): number => {
      let seen = 0;
      for (const [length, count] of histogram) {
        seen += count;
        if (seen > index) return length;
      }
      throw new Error(`internal: length index ${index} past the ${seen} kept traces`);
    };
    const q = (p: number): number => at(Math.min(total - 1, Math.floor(p * total)));
    return {
      puzzles: this.puzzles,
      sampled: this.sampled,
      kept: this.kept,
      accuracyByN: Object.fromEntries(
        [...this.byN].sort((a, b) => a[0] - b[0]).map(([n, s]) => [`N=${n}`, { ...s, accuracy: s.sampled ? s.correct / s.sampled : 0 }]),
      ),
      tokens: total > 0 ? { p50: q(0.5), p90: q(0.9), p99: q(0.99), max: (histogram[histogram.length - 1] as [number, number])[0] } : null,
    };
  }
}
