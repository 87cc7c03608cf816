import { existsSync } from 'node:fs';
import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'parse5';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { ReportData } from '../../src/report/report.js';
import { captureOutput, readAll, ROOT, tempDir } from '../helpers.js';

const io = captureOutput();
const pipeline = join(ROOT, 'pipelines', 'two-stage.ts');

const rows = readAll;

describe('pipelines/two-stage.ts (minimal preset)', () => {
  it('runs every stage, writes every artifact and a report whose numbers match the files, and resumes without redoing work', async () => {
    const dir = join(await tempDir(), 'run');
    expect(await main(['run', pipeline, '--preset', 'minimal', '--out', dir]), io.err).toBe(0);
    // Artifacts.
    const manifest = JSON.parse(await readFile(join(dir, 'pipeline.json'), 'utf8')) as { pipeline: string; preset: string; config: { puzzles: number } };
    expect(manifest).toMatchObject({ pipeline: 'two-stage', preset: 'minimal', config: { puzzles: 40 } });
    expect(await rows(join(dir, 'puzzles.arrow'))).toHaveLength(40);
    expect((await rows(join(dir, 'traces.arrows'))).length).toBeGreaterThan(30);
    // The shipped world base is the base: nothing is initialised.
    expect(existsSync(join(dir, 'base'))).toBe(false);
    for (const ckpt of ['warm', 'rl-base/last', 'rl-warm/last']) expect(existsSync(join(dir, ckpt, 'model.safetensors')), ckpt).toBe(true);
    for (const run of ['rl-base', 'rl-warm']) expect(await rows(join(dir, run, 'rollouts.arrows'))).toHaveLength(2 * 2 * 2);
    const models = ['base', 'warm', 'base-rl', 'warm-rl'];
    for (const m of models) for (const set of ['math', 'code', 'mc', 'kk']) expect(existsSync(join(dir, 'eval', m, set, 'summary.json')), `${m}/${set}`).toBe(true);
    // The report: valid HTML, the charts, and the numbers of the files.
    const html = await readFile(join(dir, 'report.html'), 'utf8');
    const errors: string[] = [];
    parse(html, { onParseError: (e) => errors.push(e.code) });
    expect(errors).toEqual([]);
    const charts = ['sft_loss', 'rl_reward', 'rl_pass_rate', 'rl_signal', 'response_length', 'accuracy', 'sample_efficiency'];
    for (const c of charts) {
      expect(html).toContain(`<figure id="chart-${c}"><svg`);
      expect((await readFile(join(dir, 'charts', `${c}.svg`), 'utf8')).startsWith('<svg')).toBe(true);
    }
    const report = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as ReportData;
    const sftLoss = (await rows(join(dir, 'sft', 'metrics.arrows'))).filter((m) => m.name === 'loss').map((m) => [m.step, m.value]);
    expect(report.sft.sft?.series.loss).toEqual(sftLoss);
    const reward = (await rows(join(dir, 'rl-warm', 'metrics.arrows'))).filter((m) => m.name === 'reward_mean').map((m) => [m.step, m.value]);
    expect(report.rl['rl-warm']?.series.reward_mean).toEqual(reward);
    for (const m of models) {
      const summary = JSON.parse(await readFile(join(dir, 'eval', m, 'kk', 'summary.json'), 'utf8')) as { overall: { mean: number; std: number; ci95: [number, number] } };
      expect(report.eval[m]?.kk?.mean).toBe(summary.overall.mean);
      expect(html).toContain(`<td>${m}</td>`);
      expect(html).toContain(`${(100 * summary.overall.mean).toFixed(1)} [${(100 * summary.overall.ci95[0]).toFixed(1)}, ${(100 * summary.overall.ci95[1]).toFixed(1)}]`);
    }
    // Re-running the folder skips every finished stage and rewrites no artifact.
    const before = (await stat(join(dir, 'warm', 'model.safetensors'))).mtimeMs;
    io.err = '';
    expect(await main(['run', pipeline, '--preset', 'minimal', '--out', dir]), io.err).toBe(0);
    expect(io.err).toMatch(/resuming/);
    expect(io.err).not.toMatch(/stage \S+: running/);
    expect((await stat(join(dir, 'warm', 'model.safetensors'))).mtimeMs).toBe(before);
    // An unfinished stage runs again, and only it.
    await rm(join(dir, 'stages', 'eval-warm-rl-kk.json'));
    io.err = '';
    expect(await main(['run', pipeline, '--preset', 'minimal', '--out', dir]), io.err).toBe(0);
    expect(io.err.match(/stage \S+: running/g)).toEqual(['stage eval-warm-rl-kk: running']);
    // A different config is refused for this folder.
    expect(await main(['run', pipeline, '--preset', 'minimal', '--set', 'rlSteps=3', '--out', dir])).toBe(1);
    expect(io.err).toMatch(/holds a run of 'two-stage' with a different config \(rlSteps\)/);
    // `warmup report` rebuilds the same numbers.
    await rm(join(dir, 'report.json'));
    expect(await main(['report', dir])).toBe(0);
    expect((JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as ReportData).eval).toEqual(report.eval);
  }, 240_000);

  it('passes the SFT schedule, packing and anchor decay to warmup sft, and gives K&K its own new-token limit', async () => {
    const { default: twoStage, recipeCommands } = await import('../../pipelines/two-stage.js');
    const o = { base: 'b', data: ['d'], out: join(await tempDir(), 'w'), metrics: 'm', seed: 0, quiet: true };
    // v1's recipe packs traces under a cosine schedule; npm start's numbered warmup does neither.
    const packed = recipeCommands.sft(twoStage.presets.v1, o);
    expect(packed.slice(packed.indexOf('--schedule'), packed.indexOf('--schedule') + 2)).toEqual(['--schedule', 'cosine']);
    expect(packed).not.toContain('--no-packing');
    const unpacked = recipeCommands.sft(twoStage.presets.default, o);
    expect(unpacked).toContain('--no-packing');
    expect(unpacked.slice(unpacked.indexOf('--schedule'), unpacked.indexOf('--schedule') + 2)).toEqual(['--schedule', 'constant']);
    // The pull toward the base is off unless set (results/LAB.md, probe 25).
    expect(unpacked).not.toContain('--anchor-decay');
    const anchored = recipeCommands.sft({ ...twoStage.presets.default, sftAnchorDecay: 30 }, o);
    expect(anchored.slice(anchored.indexOf('--anchor-decay'), anchored.indexOf('--anchor-decay') + 2)).toEqual(['--anchor-decay', '30']);
    // v4 mixes one rehearsal row per four traces (7,980 → 1,995) into the warmup, at 3e-4; v1 and v3 mix none.
    const v4 = twoStage.presets.v4;
    expect(recipeCommands.puzzleCount(v4)).toBe(7980);
    const replay = recipeCommands.replay(v4, 1001, 'r.jsonl') ?? [];
    expect(replay.slice(0, 2)).toEqual(['world', 'replay']);
    expect(replay.slice(replay.indexOf('--rows'), replay.indexOf('--rows') + 2)).toEqual(['--rows', '1995']);
    expect(recipeCommands.replay(twoStage.presets.v3, 1, 'r.jsonl')).toBeNull();
    // npm start: the same rehearsal on its 3,600 traces.
    expect(recipeCommands.puzzleCount(twoStage.presets.default)).toBe(3600);
    expect(recipeCommands.replay(twoStage.presets.default, 1, 'r.jsonl')?.join(' ')).toMatch(/--rows 900/);
    // …in the named case layout, with RL on code at temperature 1 (probe 30); the
    // replications keep the numbered layout and the sampling they were registered with.
    expect(recipeCommands.traces(twoStage.presets.default, 'p.arrow', 't.arrows').join(' ')).toMatch(/--style cases /);
    const rl = recipeCommands.rlvr(twoStage.presets.default, { from: 'w', data: 'd', out: 'o', seed: 0, saveEvery: 0 }).join(' ');
    expect(rl).toMatch(/--temperature 1 /);
    expect(twoStage.presets.default.target).toBe('data/world/code/rl.jsonl');
    for (const preset of [twoStage.presets.v5, twoStage.presets['start-v4']]) {
      expect(recipeCommands.traces(preset, 'p.arrow', 't.arrows').join(' ')).toMatch(/--style numbered /);
      expect(preset.temperature).toBe(0.7);
    }
    const mixed = recipeCommands.sft(v4, { ...o, data: ['t.arrows', 'r.jsonl'] });
    expect(mixed.join(' ')).toMatch(/--data t\.arrows --data r\.jsonl .*--lr 0\.0003/);
    const limits = { ...twoStage.presets.default, evalMaxNewTokens: 200, kkMaxNewTokens: 720 };
    expect(['kk', 'math', 'code', 'mc', 'kk-dev', 'math-dev'].map((set) => recipeCommands.evalMaxNewTokens(limits, set))).toEqual([720, 200, 200, 200, 720, 200]);
  });

  it('rejects unknown keys, wrong types and unknown presets', async () => {
    const out = join(await tempDir(), 'r');
    expect(await main(['run', pipeline, '--set', 'nope=1', '--out', out])).toBe(1);
    expect(io.err).toMatch(/--set nope: unknown key for pipeline 'two-stage' \(keys: base, preset, people/);
    expect(await main(['run', pipeline, '--set', 'rlSteps=many', '--out', out])).toBe(1);
    expect(io.err).toMatch(/--set rlSteps: expected a number, got "many"/);
    expect(await main(['run', pipeline, '--preset', 'huge', '--out', out])).toBe(1);
    expect(io.err).toMatch(/has no preset 'huge' \(presets: default, start-v4, v1, v3, v4, v5, minimal\)/);
    expect(await main(['run', join(ROOT, 'pipelines', 'nope.ts')])).toBe(1);
    expect(io.err).toMatch(/no such pipeline file/);
  });
});
