// The replication pipeline end to end on its minimal preset: every cell, a report with
// the four claims and their verdicts, the held-out sets' hashes, and a resume that
// redoes nothing.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'parse5';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { ClaimResult } from '../../src/eval/replication.js';
import { captureOutput, ROOT, tempDir } from '../helpers.js';

const io = captureOutput();

describe('pipelines/replicate.ts (minimal preset)', () => {
  it('evaluates every model of every seed, computes the four claims with verdicts, and resumes without redoing work', async () => {
    const dir = join(await tempDir(), 'rep');
    expect(await main(['run', join(ROOT, 'pipelines', 'replicate.ts'), '--preset', 'minimal', '--out', dir]), io.err).toBe(0);
    const cells = (await readdir(join(dir, 'cells', 'cells'))).sort();
    // base: 2 domains + K&K; per seed (2): the rehearsal control 2, warm 3, and per domain (2) × arm (2): 2 sets + 3 checkpoints.
    expect(cells).toHaveLength(3 + 2 * (2 + 3 + 2 * 2 * 5));
    expect(cells).toContain('control-s1-math.json');
    expect(cells).toContain('warm-rl-mc_at0.5-s1-mc.json');
    const cell = JSON.parse(await readFile(join(dir, 'cells', 'cells', 'warm-rl-mc_at0.5-s1-mc.json'), 'utf8')) as { model: string; seed: number; ids: string[]; correct: number[] };
    expect(cell).toMatchObject({ model: 'warm-rl-mc@0.5', seed: 1 });
    expect(cell.ids).toEqual(['mc-test-0', 'mc-test-1', 'mc-test-2']);
    const report = JSON.parse(await readFile(join(dir, 'cells', 'report.json'), 'utf8')) as { claims: ClaimResult[]; set_sha256: Record<string, string>; seeds: number[]; format: Record<string, Record<string, number>>; rl_learning: Record<string, unknown> };
    expect(report.seeds).toEqual([0, 1]);
    expect(report.claims.map((c) => c.claim)).toEqual(['i', 'ii', 'iii', 'iv']);
    // With rehearsal, claim (i) compares the warm model with the control arm, and the base beside it.
    expect(report.claims[0]?.statistic).toMatch(/accuracy\(control\)/);
    expect(report.claims[0]?.secondary?.label).toBe('against the base');
    for (const c of report.claims) expect(['reproduced', 'not reproduced', 'inconclusive']).toContain(c.pooled.verdict);
    expect(Object.keys(report.claims[2]?.parts ?? {})).toEqual(['math→mc', 'mc→math']);
    expect(report.set_sha256['kk/test.jsonl']).toMatch(/^[0-9a-f]{64}$/);
    // Beside the claims: the format score of every model and set, and each RL run's check that it learns.
    expect(typeof report.format.warm?.kk).toBe('number');
    expect(Object.keys(report.rl_learning).sort()).toEqual(['s0/rl-base-math', 's0/rl-base-mc', 's0/rl-warm-math', 's0/rl-warm-mc', 's1/rl-base-math', 's1/rl-base-mc', 's1/rl-warm-math', 's1/rl-warm-mc']);
    const html = await readFile(join(dir, 'cells', 'report.html'), 'utf8');
    const errors: string[] = [];
    parse(html, { onParseError: (e) => errors.push(e.code) });
    expect(errors).toEqual([]);
    expect(html).toContain('(iii) After RL on one domain');
    expect(io.err).toMatch(/\(iv\) Warm\+RL reaches a given accuracy with fewer samples: .* → (reproduced|not reproduced|inconclusive)/);
    io.err = '';
    expect(await main(['run', join(ROOT, 'pipelines', 'replicate.ts'), '--preset', 'minimal', '--out', dir]), io.err).toBe(0);
    expect(io.err).not.toMatch(/stage \S+: running/);
  }, 300_000);
});
