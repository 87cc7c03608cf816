import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRows } from '../../src/data/dataset.js';
import { puzzleFromRecord } from '../../src/kk/records.js';
import { generatePuzzles, makeKKConfig } from '../../src/kk/generator.js';
import { parseRolePair } from '../../src/kk/names.js';
import type { Puzzle } from '../../src/kk/puzzle.js';
import { scoreKK } from '../../src/reward/kk.js';
import { symbolicTrace } from '../../src/teacher/symbolic.js';
import { ROOT, sharedDataset } from '../helpers.js';

/** The K&K verifier (paper scheme) on a trace: 'ok' means format and answer are right. */
const verdict = (p: Puzzle, trace: string) =>
  scoreKK({ prompt: '', completion: trace, row: { names: [...p.names], solution: [...p.solution], roles: [p.roles.truthful, p.roles.liar] } });

describe('symbolic teacher', () => {
  it('is correct on 10,000 generated puzzles, N = 2–8, in every search order and with slips', () => {
    // N=2 has only 399 puzzles: all of them, plus 9,601 spread over N = 3–8.
    const puzzles = [...generatePuzzles({ people: [2], count: 399, seed: 99 }), ...generatePuzzles({ people: [3, 4, 5, 6, 7, 8], count: 9601, seed: 99 })];
    expect(puzzles).toHaveLength(10_000);
    const orders = ['fixed', 'most-constrained', 'random'] as const;
    const t0 = performance.now();
    const failures: string[] = [];
    puzzles.forEach((p, i) => {
      const trace = symbolicTrace(p, { order: orders[i % 3] as (typeof orders)[number], slipRate: i % 2 ? 0.3 : 0, verbosity: i % 5 === 0 ? 'long' : 'normal' }, i);
      const r = verdict(p, trace);
      if (r.status !== 'ok' && failures.length < 3) failures.push(`${p.id}: ${r.reason}`);
    });
    const perSecond = puzzles.length / ((performance.now() - t0) / 1000);
    console.log(`symbolic teacher: ${Math.round(perSecond)} traces/s (with verification)`);
    expect(failures).toEqual([]);
  });

  it('writes the reasoning a reasoning model shows: claims, suppositions, contradictions, verification', () => {
    const [p] = [...generatePuzzles({ people: [5], count: 1, seed: 4 })];
    const trace = symbolicTrace(p as Puzzle, { order: 'fixed', slipRate: 1 }, 1);
    expect(trace).toMatch(/^<think>/);
    expect(trace).toMatch(/says: /);
    expect(trace).toMatch(/(Suppose|Assume|Let me try assuming) \w+ is a (knight|knave)/);
    expect(trace).toMatch(/Wait|Hold on|No, wait/);
    expect(trace).toMatch(/(verify|Checking|double-check)/);
    expect(trace).toMatch(/<\/think>\n<answer>\(1\) .*\n\(2\)/);
    expect(symbolicTrace(p as Puzzle, { openThink: false, verbosity: 'short' }, 1)).not.toMatch(/^<think>/);
  });

  it('works with other role words and is deterministic for a seed', () => {
    const config = makeKKConfig({ roles: parseRolePair('saints') });
    const [p] = [...generatePuzzles({ people: [4], count: 1, seed: 2, config })];
    const a = symbolicTrace(p as Puzzle, { order: 'random' }, 7);
    expect(a).toBe(symbolicTrace(p as Puzzle, { order: 'random' }, 7));
    expect(a).toMatch(/saint|sinner/);
    expect(verdict(p as Puzzle, a).status).toBe('ok');
  });
});

const logicRl = sharedDataset('logic-rl-kk');

/** The symbolic teacher's trace of every puzzle in `files`, scored: how many, and the first failures. */
async function traceFiles(files: readonly string[]): Promise<{ n: number; bad: string[] }> {
  let n = 0;
  const bad: string[] = [];
  for (const file of files) {
    let row = 0;
    for await (const r of readRows(file)) {
      const p = puzzleFromRecord(r, row++);
      const v = verdict(p, symbolicTrace(p, {}, n++));
      if (v.status !== 'ok' && bad.length < 3) bad.push(`${p.id}: ${v.reason}`);
    }
  }
  return { n, bad };
}

describe('symbolic teacher on Logic-RL puzzles (3 committed rows)', () => {
  it('is correct on every one', async () => {
    expect(await traceFiles([join(ROOT, 'test', 'fixtures', 'tasks', 'logic-rl-kk.parquet')])).toEqual({ n: 3, bad: [] });
  });
});

describe.skipIf(logicRl === null)('symbolic teacher on Logic-RL puzzles (../shared)', () => {
  it('is correct on all 5,000', async () => {
    const files = [3, 4, 5, 6, 7].flatMap((size) => ['train', 'test'].map((split) => `${logicRl}/${size}ppl/${split}.parquet`));
    expect(await traceFiles(files)).toEqual({ n: 5000, bad: [] });
  });
});
