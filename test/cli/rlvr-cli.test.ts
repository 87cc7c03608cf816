import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { saveCheckpoint } from '../../src/model/checkpoint.js';
import { captureOutput, readAll, ROOT, tempDir } from '../helpers.js';
import { digitsTask } from '../stages/rlvr-fixture.js';

const io = captureOutput();
const reward = join(ROOT, 'test', 'fixtures', 'rewards', 'digit.mjs');
let dir: string;
let base: string;
let data: string;

beforeAll(async () => {
  dir = await tempDir();
  const task = await digitsTask(0);
  base = join(dir, 'base');
  await saveCheckpoint(base, task.model, task.tokenizer);
  task.model.dispose();
  data = join(dir, 'target.jsonl');
  await writeFile(data, Array.from({ length: 8 }, (_, i) => JSON.stringify({ id: `q${i}`, prompt: 'digits:', target: '7' })).join('\n'));
}, 120_000);

const rlvrArgs = (out: string, steps: number): string[] => [
  'rlvr', '--model', base, '--data', data, '--reward', reward, '--out', out, '--steps', String(steps),
  '--group-size', '8', '--prompts-per-step', '4', '--max-new-tokens', '8', '--temperature', '1', '--lr', '3e-3', '--overlong', 'none',
  '--save-every', '2', '--backend', 'wasm', '--workers', '1', '--seed', '3',
];

const rows = readAll;

describe('warmup rlvr and replay', () => {
  it('runs GRPO with a custom reward module, writing the run folder', async () => {
    const out = join(dir, 'run');
    expect(await main([...rlvrArgs(out, 6), '--quiet']), io.err).toBe(0);
    for (const f of ['config.json', 'rollouts.arrows', 'metrics.arrows', 'last/model.safetensors', 'last/optimizer.safetensors', 'checkpoints/step-000002/trainer_state.json', 'checkpoints/step-000004/model.safetensors']) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    const logged = await rows(join(out, 'rollouts.arrows'));
    expect(logged).toHaveLength(6 * 32);
    expect(logged.map((r) => r.step)).toEqual(Array.from({ length: 192 }, (_, i) => 1 + Math.floor(i / 32)));
    const metrics = await rows(join(out, 'metrics.arrows'));
    const reward = metrics.filter((m) => m.name === 'reward_mean');
    expect(reward.map((m) => m.step)).toEqual([1, 2, 3, 4, 5, 6]);
    // The logged reward mean of each step is the metric's.
    for (const m of reward) {
      const step = logged.filter((r) => r.step === m.step).map((r) => r.reward as number);
      expect(m.value).toBeCloseTo(step.reduce((a, b) => a + b, 0) / step.length, 9);
    }
    for (const name of ['pass_rate', 'kl', 'clip_fraction', 'entropy', 'rollouts_per_s', 'pool_util', 'model_idle']) expect(metrics.some((m) => m.name === name), name).toBe(true);
    const state = JSON.parse(await readFile(join(out, 'last', 'trainer_state.json'), 'utf8')) as { step: number; cursor: number };
    expect(state).toMatchObject({ step: 6, cursor: 24 });
    // A second run into the same folder must not clobber it.
    expect(await main([...rlvrArgs(out, 6), '--quiet'])).toBe(1);
    expect(io.err).toMatch(/already holds a run: pass --resume/);
  });

  it('re-scores a log with another reward and shows how the scores moved', async () => {
    const log = join(dir, 'run', 'rollouts.arrows');
    const out = join(dir, 'fives.arrows');
    io.out = '';
    expect(await main(['replay', log, '--reward', reward, '--option', `${reward}={"digit":"5"}`, '--out', out, '--workers', '1', '--json']), io.err).toBe(0);
    const summary = JSON.parse(io.out) as { rows: number; steps: number; changed: number; status_confusion: Record<string, Record<string, number>> };
    expect(summary).toMatchObject({ rows: 192, steps: 6 });
    expect(summary.changed).toBeGreaterThan(0);
    const before = await rows(log);
    const after = await rows(out);
    expect(after).toHaveLength(192);
    const confusion: Record<string, Record<string, number>> = {};
    after.forEach((r, i) => {
      const b = before[i] as Record<string, unknown>;
      expect(r.completion).toBe(b.completion);
      const digits = String(r.completion).match(/\d/g) ?? [];
      expect(r.reward).toBeCloseTo(digits.length ? digits.filter((d) => d === '5').length / digits.length : 0, 12);
      const row = (confusion[String(b.status)] ??= {});
      row[String(r.status)] = (row[String(r.status)] ?? 0) + 1;
    });
    expect(summary.status_confusion).toEqual(confusion);
    // Advantages are recomputed per group from the new rewards (Dr. GRPO: reward minus group mean).
    for (let g = 0; g < 192; g += 8) {
      const group = after.slice(g, g + 8);
      const mean = group.reduce((a, r) => a + (r.reward as number), 0) / 8;
      group.forEach((r) => expect(r.advantage).toBeCloseTo((r.reward as number) - mean, 6));
    }
    io.out = '';
    expect(await main(['replay', log, '--reward', reward, '--option', `${reward}={"digit":"5"}`, '--out', join(dir, 'again.arrows'), '--workers', '1'])).toBe(0);
    expect(io.out).toMatch(/before \\ after/);
    expect(io.out).toMatch(/mean reward 0\.\d+ -> 0\.\d+/);
  });

  it('trains offline from the log and reproduces the live run exactly', async () => {
    const out = join(dir, 'replayed');
    expect(await main(['replay', join(dir, 'run', 'rollouts.arrows'), '--train', '--model', base, '--out', out, '--lr', '3e-3', '--overlong', 'none', '--backend', 'wasm', '--quiet']), io.err).toBe(0);
    const live = await readFile(join(dir, 'run', 'last', 'model.safetensors'));
    const replayed = await readFile(join(out, 'model.safetensors'));
    expect(replayed.equals(live)).toBe(true);
  });

  it('explains bad input', async () => {
    expect(await main(['replay', join(dir, 'run', 'rollouts.arrows'), '--out', join(dir, 'x.arrows')])).toBe(1);
    expect(io.err).toMatch(/replay needs --reward \(re-score\) and\/or --train/);
    expect(await main(['replay', join(dir, 'target.jsonl'), '--reward', 'kk', '--out', join(dir, 'y.arrows')])).toBe(1);
    expect(io.err).toMatch(/column 'step' is missing; is this a rollouts log/);
    expect(await main(['rlvr', '--model', base, '--data', data, '--reward', 'nope', '--out', join(dir, 'z')])).toBe(1);
    expect(io.err).toMatch(/unknown reward 'nope'/);
    // Without --reward, the rows' layout names the reward; ready prompts name none.
    expect(await main(['rlvr', '--model', base, '--data', data, '--out', join(dir, 'z')])).toBe(1);
    expect(io.err).toMatch(/give at least one --reward .*: the rows of .*target\.jsonl \(layout 'prompt'\) name no built-in reward/);
    // A reward that is the same for every completion: nothing to learn, and the run says so.
    const flatOut = join(dir, 'flat');
    expect(await main(['rlvr', '--model', base, '--data', data, '--reward', join(ROOT, 'test', 'fixtures', 'rewards', 'constant.mjs'), '--out', flatOut, '--steps', '3', '--group-size', '2', '--prompts-per-step', '2', '--max-new-tokens', '4', '--backend', 'wasm', '--workers', '1'])).toBe(0);
    expect(io.err).toMatch(/warning: no learning signal for 3 steps/);
    expect(await main(['rlvr', '--model', base, '--data', data, '--reward', 'kk', '--out', join(dir, 'z'), '--resume'])).toBe(1);
    expect(io.err).toMatch(/--resume: .* has no checkpoint/);
    await writeFile(join(dir, 'bad.jsonl'), '{"text": "x"}\n');
    expect(await main(['rlvr', '--model', base, '--data', join(dir, 'bad.jsonl'), '--reward', 'kk', '--out', join(dir, 'w')])).toBe(1);
    expect(io.err).toMatch(/row 1: needs a 'problem', 'prompt', 'question' or 'quiz' column \(found: text\)/);
  });

  const killAndResume = async (name: string, extra: string[]): Promise<void> => {
    const out = join(dir, name);
    const bin = join(ROOT, 'bin', 'warmup.js');
    expect(existsSync(join(ROOT, 'dist', 'cli', 'main.js')), 'npm test builds dist first').toBe(true);
    const steps = 12;
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, [bin, ...rlvrArgs(out, steps), ...extra, '--quiet'], { stdio: 'ignore', env: { ...process.env, WARMUP_WASM_THREADS: '1' } });
      const timer = setInterval(() => {
        // Kill once step 5 is logged (with --save-every 2, checkpoints 2 and 4 exist and step 5 is only in the log).
        void rows(join(out, 'rollouts.arrows')).then(
          (r) => {
            if (r.some((x) => x.step === 5)) child.kill('SIGKILL');
          },
          () => undefined,
        );
      }, 20);
      child.on('exit', (code, signal) => {
        clearInterval(timer);
        if (signal === 'SIGKILL') resolve();
        else reject(new Error(`the run finished (code ${code}) before it could be killed; make it longer`));
      });
    });
    expect(existsSync(join(out, 'last'))).toBe(false);
    expect(await main([...rlvrArgs(out, steps), ...extra, '--resume']), io.err).toBe(0);
    expect(io.err).toMatch(/resuming .* \(step \d+\)/);
    const resumed = await rows(join(out, 'rollouts.arrows'));
    expect(resumed.map((r) => r.step)).toEqual(Array.from({ length: steps * 32 }, (_, i) => 1 + Math.floor(i / 32)));
    // The same run without the kill.
    const clean = join(dir, 'clean');
    if (!existsSync(join(clean, 'last'))) expect(await main([...rlvrArgs(clean, steps), '--quiet']), io.err).toBe(0);
    const reference = await rows(join(clean, 'rollouts.arrows'));
    expect(resumed.map((r) => r.completion)).toEqual(reference.map((r) => r.completion));
    expect((await readFile(join(out, 'last', 'model.safetensors'))).equals(await readFile(join(clean, 'last', 'model.safetensors')))).toBe(true);
    const metrics = (await rows(join(out, 'metrics.arrows'))).filter((m) => m.name === 'loss').map((m) => m.step);
    expect(metrics).toEqual(Array.from({ length: steps }, (_, i) => i + 1));
  };

  it('survives SIGKILL mid-run: --resume loses no logged rollout and equals the uninterrupted run', async () => {
    await killAndResume('killed', []);
  });

  it('resumes a run killed before its first checkpoint, from the starting model and the log', async () => {
    await killAndResume('killed-early', ['--save-every', '0']);
    expect(io.err).toMatch(/resuming .* from .*base and the log \(step 0\)/);
  });

  it('stops cleanly on SIGINT: flushes the logs, writes last/, exits 130, and resumes', async () => {
    const out = join(dir, 'interrupted');
    const bin = join(ROOT, 'bin', 'warmup.js');
    let stderr = '';
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, [bin, ...rlvrArgs(out, 40)], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, WARMUP_WASM_THREADS: '1' } });
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      let sent = false;
      const timer = setInterval(() => {
        void rows(join(out, 'rollouts.arrows')).then(
          (r) => {
            if (!sent && r.some((x) => x.step === 3)) {
              sent = true;
              child.kill('SIGINT');
            }
          },
          () => undefined,
        );
      }, 20);
      child.on('exit', (c) => {
        clearInterval(timer);
        resolve(c);
      });
    });
    expect(code, stderr).toBe(130);
    expect(stderr).toMatch(/interrupted: stopping the batch in flight/);
    const state = JSON.parse(await readFile(join(out, 'last', 'trainer_state.json'), 'utf8')) as { step: number };
    const logged = await rows(join(out, 'rollouts.arrows'));
    const loggedSteps = new Set(logged.map((r) => r.step));
    expect(state.step).toBeGreaterThanOrEqual(3);
    expect(loggedSteps.size === state.step || loggedSteps.size === state.step + 1).toBe(true);
    expect(await main([...rlvrArgs(out, state.step + 2), '--resume', '--quiet']), io.err).toBe(0);
    const after = await rows(join(out, 'rollouts.arrows'));
    expect(new Set(after.map((r) => r.step)).size).toBe(state.step + 2);
    expect(after).toHaveLength((state.step + 2) * 32);
  });

  it('trains a LoRA adapter with --lora-r: last/ is an adapter folder and the base is untouched', async () => {
    const out = join(dir, 'lora');
    const baseBytes = await readFile(join(base, 'model.safetensors'));
    expect(await main([...rlvrArgs(out, 2), '--lora-r', '2', '--quiet']), io.err).toBe(0);
    expect((await readFile(join(base, 'model.safetensors'))).equals(baseBytes)).toBe(true);
    expect(existsSync(join(out, 'last', 'adapter_model.safetensors'))).toBe(true);
    expect(existsSync(join(out, 'last', 'model.safetensors'))).toBe(false);
    expect(JSON.parse(await readFile(join(out, 'last', 'adapter_config.json'), 'utf8'))).toMatchObject({ peft_type: 'LORA', r: 2 });
  });
});
