import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { lastValueFrom, of, toArray } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { readRows } from '../../src/data/dataset.js';
import { generatePuzzles } from '../../src/kk/generator.js';
import type { TraceRecord } from '../../src/data/schemas.js';
import { traces, TraceStatsCollector, type PuzzleTraces } from '../../src/stages/traces.js';
import { makeSymbolicTeacher } from '../../src/teacher/symbolic.js';
import { LOGIC_RL_TEMPLATE, R1_TEMPLATE, renderPrompt } from '../../src/teacher/templates.js';
import type { Teacher } from '../../src/teacher/types.js';
import { ROOT, tempDir } from '../helpers.js';

const puzzles = [...generatePuzzles({ people: [3, 5], count: 12, seed: 8 })];
const sample = { n: 3, temperature: 0.6, topP: 0.95, maxTokens: 8192, stop: [] };

describe('traces stage', () => {
  it('samples, verifies and keeps correct symbolic traces, with the template recorded', async () => {
    const groups = await lastValueFrom(of(...puzzles).pipe(traces({ teacher: makeSymbolicTeacher(), template: R1_TEMPLATE, sample }), toArray()));
    expect(groups).toHaveLength(12);
    for (const g of groups) {
      expect(g.sampled).toHaveLength(3);
      expect(g.kept.every((t) => t.correct === true && t.template === 'r1@1' && t.teacher === 'symbolic')).toBe(true);
      // The R1 prompt opens <think>, so the completion continues inside it.
      expect(g.kept[0]?.completion.startsWith('<think>')).toBe(false);
      expect(g.kept[0]?.prompt.endsWith('Assistant: <think>')).toBe(true);
    }
    const stats = new TraceStatsCollector();
    groups.forEach((g) => stats.add(g));
    expect(stats.result()).toMatchObject({ puzzles: 12, sampled: 36, accuracyByN: { 'N=3': { accuracy: 1 }, 'N=5': { accuracy: 1 } } });
  });

  it('applies the filter policies: wrong answers, length and duplicates', async () => {
    const wrongTeacher: Teacher = {
      id: 'fake',
      sample: (_prompt, o) =>
        Promise.resolve(Array.from({ length: o.n }, (_, i) => ({ text: i === 0 ? '<think>x</think><answer>(1) nobody</answer>' : 'same', nTokens: i === 2 ? 9999 : 5, latencyMs: 1, finishReason: 'stop', status: 'ok' }))),
    };
    const [g] = await lastValueFrom(of(puzzles[0]!).pipe(traces({ teacher: wrongTeacher, template: LOGIC_RL_TEMPLATE, sample: { ...sample, n: 4 }, filter: { keep: 'all', maxTokens: 100, dedup: true } }), toArray()));
    // Sample 0 is wrong but kept under 'all'; 1 and 3 are duplicates; 2 is too long.
    expect(g?.kept.map((t) => t.sample_idx)).toEqual([0, 1]);
    expect(g?.kept[0]?.correct).toBe(false);
    const [h] = await lastValueFrom(of(puzzles[0]!).pipe(traces({ teacher: wrongTeacher, template: R1_TEMPLATE, sample: { ...sample, n: 2 } }), toArray()));
    expect(h?.kept).toEqual([]);
  });

  it('token percentiles from the histogram equal the sort-based definition, and the running totals add up', () => {
    const record = (n_tokens: number, correct: boolean): TraceRecord => ({
      puzzle_id: 'p', teacher: 't', template: 'r1@1', sample_idx: 0, prompt: '', completion: '', answer: null, correct, reward: null, n_tokens, latency_ms: 0, finish_reason: 'stop', status: 'ok',
    });
    // Each group: the kept lengths, and how many more samples were dropped.
    const group = fc.record({ kept: fc.array(fc.integer({ min: 0, max: 400 }), { maxLength: 6 }), dropped: fc.array(fc.integer({ min: 0, max: 400 }), { maxLength: 3 }), puzzle: fc.integer({ min: 0, max: puzzles.length - 1 }) });
    fc.assert(
      fc.property(fc.array(group, { maxLength: 40 }), (groups) => {
        const stats = new TraceStatsCollector();
        const all: number[] = [];
        let tokens = 0;
        for (const g of groups) {
          const kept = g.kept.map((n) => record(n, true));
          const sampled = [...kept, ...g.dropped.map((n) => record(n, false))];
          stats.add({ puzzle: puzzles[g.puzzle]!, sampled, kept } satisfies PuzzleTraces);
          all.push(...g.kept);
          tokens += sampled.reduce((a, t) => a + t.n_tokens, 0);
        }
        const sorted = [...all].sort((a, b) => a - b);
        const q = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
        const r = stats.result();
        expect(r.tokens).toEqual(sorted.length > 0 ? { p50: q(0.5), p90: q(0.9), p99: q(0.99), max: sorted[sorted.length - 1] } : null);
        expect([stats.puzzles, stats.kept, stats.sampled, stats.sampledTokens]).toEqual([groups.length, all.length, r.sampled, tokens]);
        expect(r).toMatchObject({ puzzles: groups.length, kept: all.length });
      }),
      { numRuns: 300 },
    );
  });

  it('fills templates', () => {
    expect(renderPrompt(R1_TEMPLATE, { quiz: 'Q?' })).toMatch(/User: Q\? .*Assistant: <think>$/);
    expect(renderPrompt(LOGIC_RL_TEMPLATE, { quiz: 'Q?' })).toMatch(/<\|im_start\|>user\nQ\?\n<\|im_end\|>/);
  });
});

describe('warmup traces (resumable)', () => {
  let err = '';
  beforeEach(() => {
    err = '';
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  });
  afterEach(() => vi.restoreAllMocks());

  it('resumes after an interruption and a torn tail with no duplicate and no missing puzzle', async () => {
    const dir = await tempDir();
    const p = join(dir, 'p.arrow');
    const out = join(dir, 't.arrows');
    await main(['kk', 'generate', '--people', '3-4', '--count', '30', '--out', p, '--quiet']);
    expect(await main(['traces', '--puzzles', p, '--out', out, '--n', '2', '--limit', '10', '--quiet'])).toBe(0);
    // A crash in the middle of a write: cut the last batch in half.
    const size = (await stat(out)).size;
    await truncate(out, size - 200);
    expect(await main(['traces', '--puzzles', p, '--out', out, '--n', '2', '--quiet']), err).toBe(0);
    const ids: string[] = [];
    for await (const r of readRows(out)) ids.push(String(r.puzzle_id));
    const perPuzzle = new Map<string, number>();
    for (const id of ids) perPuzzle.set(id, (perPuzzle.get(id) ?? 0) + 1);
    expect(perPuzzle.size).toBe(30);
    expect([...perPuzzle.values()].every((n) => n === 2)).toBe(true);
    expect(await readFile(out).then((b) => b.length)).toBeGreaterThan(size);
  });

  it('survives SIGKILL of the real command mid-run: the rerun has no duplicate and no missing puzzle', async () => {
    const dir = await tempDir();
    const p = join(dir, 'p.arrow');
    const out = join(dir, 't.arrows');
    await main(['kk', 'generate', '--people', '5-7', '--count', '1500', '--out', p, '--quiet']);
    const bin = join(ROOT, 'bin', 'warmup.js');
    expect(existsSync(join(ROOT, 'dist', 'cli', 'main.js')), 'npm test builds dist first').toBe(true);
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, [bin, 'traces', '--puzzles', p, '--out', out, '--n', '2', '--quiet'], { stdio: 'ignore' });
      const timer = setInterval(() => {
        void stat(out).then((s) => {
          if (s.size > 200_000) child.kill('SIGKILL');
        }, () => undefined);
      }, 5);
      child.on('exit', (code, signal) => {
        clearInterval(timer);
        if (signal === 'SIGKILL') resolve();
        else reject(new Error(`the run finished (code ${code}) before it could be killed; make it longer`));
      });
    });
    const partial = new Set<string>();
    try {
      for await (const r of readRows(out)) partial.add(String(r.puzzle_id));
    } catch {
      // a torn last batch is expected after SIGKILL
    }
    expect(partial.size).toBeGreaterThan(0);
    expect(partial.size).toBeLessThan(1500);
    expect(await main(['traces', '--puzzles', p, '--out', out, '--n', '2', '--quiet']), err).toBe(0);
    const counts = new Map<string, number>();
    for await (const r of readRows(out)) counts.set(String(r.puzzle_id), (counts.get(String(r.puzzle_id)) ?? 0) + 1);
    expect(counts.size).toBe(1500);
    expect([...counts.values()].every((n) => n === 2)).toBe(true);
  });

  it('refuses an output that cannot resume and an openai teacher without a server', async () => {
    const dir = await tempDir();
    expect(await main(['traces', '--puzzles', join(dir, 'x.arrow'), '--out', join(dir, 't.jsonl')])).toBe(1);
    expect(err).toMatch(/--out must be an Arrow stream \(\.arrows\)/);
    expect(await main(['traces', '--puzzles', join(dir, 'x.arrow'), '--out', join(dir, 't.arrows'), '--teacher', 'openai'])).toBe(1);
    expect(err).toMatch(/--teacher openai needs --base-url \(repeatable\) and --model/);
  });
});
