import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeMetricRecords, METRICS } from '../../src/data/schemas.js';
import { openArrowLog } from '../../src/stages/arrow-log.js';
import { checkResumeConfig, loggedAfter, newestCheckpoint, resumePoint, stepCheckpointDir } from '../../src/stages/rl-run-folder.js';
import { tempDir } from '../helpers.js';

const state = async (dir: string, step: number, cursor: number) => {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'trainer_state.json'), JSON.stringify({ step, cursor }));
};

describe('RL run folder', () => {
  it('resumes from the newest checkpoint by step, whether last/ or checkpoints/step-*', async () => {
    const out = await tempDir();
    expect(await newestCheckpoint(out)).toBeNull();
    await state(stepCheckpointDir(out, 10), 10, 40);
    await state(stepCheckpointDir(out, 20), 20, 80);
    expect(await newestCheckpoint(out)).toEqual({ dir: stepCheckpointDir(out, 20), step: 20, cursor: 80 });
    await state(join(out, 'last'), 25, 100);
    expect((await resumePoint(out, true))?.step).toBe(25);
    expect(stepCheckpointDir(out, 20)).toMatch(/checkpoints\/step-000020$/);
  });

  it('says what to do when there is nothing to resume, and never overwrites a run', async () => {
    const out = await tempDir();
    await expect(resumePoint(out, true)).rejects.toThrow(/has no checkpoint .* and no rollouts log/);
    expect(await resumePoint(out, false)).toBeNull();
    await writeFile(join(out, 'rollouts.arrows'), '');
    await expect(resumePoint(out, false)).rejects.toThrow(/already holds a run: pass --resume/);
    await writeFile(join(out, 'config.json'), JSON.stringify({ config: { lr: 1, steps: 5 }, data: 'a.jsonl', rewards: ['math'] }));
    // Killed before its first checkpoint: from the starting model and the log.
    expect(await resumePoint(out, true)).toEqual({ dir: null, step: 0, cursor: 0 });
    await expect(checkResumeConfig(out, { lr: 1, steps: 9, data: 'a.jsonl', rewards: ['math'] }, ['steps'])).resolves.toBeUndefined();
    await expect(checkResumeConfig(out, { lr: 2, steps: 5, data: 'a.jsonl', rewards: ['math'] }, ['steps'])).rejects.toThrow(/differ from the run .*lr/);
  });

  it('counts the metrics a run killed mid-write left complete, and the appending log drops the torn rest', async () => {
    const out = await tempDir();
    const path = join(out, 'metrics.arrows');
    const log = await openArrowLog(path, METRICS.schema, { flushMs: 0 });
    for (let step = 1; step <= 3; step++) {
      log.push(makeMetricRecords('r', step, { loss: step }));
      await new Promise((r) => setTimeout(r, 20));
    }
    await log.close();
    const whole = await readFile(path);
    await writeFile(path, whole.subarray(0, whole.length - 20)); // the end marker and part of step 3
    expect((await loggedAfter(out, 0)).metricsDone).toBe(2);
    const again = await openArrowLog(path, METRICS.schema, { append: true });
    again.push(makeMetricRecords('r', 3, { loss: 3 }));
    await again.close();
    expect((await loggedAfter(out, 0)).metricsDone).toBe(3);
    await expect(openArrowLog(join(out, 'metrics.arrows', 'under-a-file.arrows'), METRICS.schema)).rejects.toThrow(/ENOTDIR|EEXIST/);
  });
});
