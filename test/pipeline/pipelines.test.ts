import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { captureOutput, readAll, ROOT, tempDir } from '../helpers.js';

const io = captureOutput();
const pipeline = (name: string): string => join(ROOT, 'pipelines', `${name}.ts`);

describe('pipelines/warmup.ts, rlvr.ts and replay.ts', () => {
  it('chain: warm up a student, run RLVR from it, then re-score and retrain from its log', async () => {
    const dir = await tempDir();
    const warm = join(dir, 'warm');
    expect(await main(['run', pipeline('warmup'), '--out', warm, '--set', 'puzzles=16', '--set', 'people=3', '--set', 'epochs=1', '--set', 'maxLength=512']), io.err).toBe(0);
    expect(existsSync(join(warm, 'warm', 'model.safetensors'))).toBe(true);
    expect(existsSync(join(warm, 'report.html'))).toBe(true);

    const rl = join(dir, 'rl');
    const rlSets = ['model=' + join(warm, 'warm'), 'steps=1', 'groupSize=2', 'promptsPerStep=2', 'maxNewTokens=8', 'evalN=1'];
    expect(await main(['run', pipeline('rlvr'), '--out', rl, ...rlSets.flatMap((s) => ['--set', s])]), io.err).toBe(0);
    expect(await readAll(join(rl, 'rl', 'rollouts.arrows'))).toHaveLength(4);
    expect(existsSync(join(rl, 'eval', 'rl', 'kk', 'summary.json'))).toBe(true);

    const replay = join(dir, 'replay');
    expect(await main(['run', pipeline('replay'), '--out', replay, '--set', `log=${join(rl, 'rl', 'rollouts.arrows')}`, '--set', 'reward=kk', '--set', `model=${join(warm, 'warm')}`]), io.err).toBe(0);
    expect(await readAll(join(replay, 'rescored.arrows'))).toHaveLength(4);
    expect(existsSync(join(replay, 'retrained', 'model.safetensors'))).toBe(true);
  }, 180_000);

  it('say what is missing', async () => {
    const out = join(await tempDir(), 'x');
    expect(await main(['run', pipeline('rlvr'), '--out', out])).toBe(1);
    expect(io.err).toMatch(/set the starting checkpoint: --set model=DIR/);
    expect(await main(['run', pipeline('replay'), '--out', `${out}2`])).toBe(1);
    expect(io.err).toMatch(/set the log: --set log=/);
    expect(await main(['run', pipeline('warmup'), '--preset', 'paper', '--out', `${out}3`])).toBe(1);
    expect(io.err).toMatch(/teacher 'openai' needs --set teacherUrl=/);
  });
});
