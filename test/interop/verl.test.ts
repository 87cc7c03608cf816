/**
 * verl's RL layout from a parquet file with verl's nested columns
 * (test/fixtures/tasks/verl-mixed.parquet: math, K&K and multiple-choice rows in one
 * file): the rows load, each reference answer scores through the reward its
 * data_source names, and `warmup rlvr` trains a step on the file with rewards routed
 * per row.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { saveCheckpoint } from '../../src/model/checkpoint.js';
import { selectBackend } from '../../src/model/backend.js';
import { trainByteBpe } from '../../src/model/tokenizer.js';
import { presetConfig, Transformer } from '../../src/model/transformer.js';
import { scoreVerl } from '../../src/reward/verl.js';
import { loadTasks } from '../../src/tasks/tasks.js';
import { captureOutput, readAll, ROOT, tempDir } from '../helpers.js';

const FIXTURE = join(ROOT, 'test', 'fixtures', 'tasks', 'verl-mixed.parquet');
const io = captureOutput();

describe('verl parquet (nested prompt, reward_model and extra_info columns)', () => {
  let dir: string;
  let base: string;
  beforeAll(async () => {
    await selectBackend('wasm');
    dir = await tempDir();
    const tokenizer = trainByteBpe(['Natalia sold clips to her friends.', 'Who is a knight and who is a knave?', '<think>', '</think>', '\\boxed{72}'], 300);
    const model = Transformer.init(presetConfig('tiny', tokenizer.vocabSize, { hiddenSize: 32, intermediateSize: 64, numLayers: 1, numHeads: 2, numKvHeads: 1, maxPositions: 1024 }), 7);
    base = join(dir, 'base');
    await saveCheckpoint(base, model, tokenizer);
    model.dispose();
  }, 60_000);

  it('loads every row as a verl task, and each reference answer scores ok through its data_source route', async () => {
    const { tasks } = await loadTasks(FIXTURE);
    expect(tasks.map((t) => [t.layout, t.subsets.data_source])).toEqual([
      ['verl', 'openai/gsm8k'],
      ['verl', 'DigitalLearningGmbH/MATH-lighteval'],
      ['verl', 'DigitalLearningGmbH/MATH-lighteval'],
      ['verl', 'kk_logic'],
      ['verl', 'mmlu_pro'],
    ]);
    expect(tasks[3]?.prompt).toMatch(/^<\|im_start\|>user\nA very special island[\s\S]*<\|im_start\|>assistant\n$/);
    const answers = ['\\boxed{72}', '\\boxed{7}', '\\boxed{\\frac{3}{4}}', '<think>check each case</think>\n<answer>(1) Amelia is a knight\n(2) Penelope is a knight\n(3) Evelyn is a knave</answer>', '\\boxed{C}'];
    const routes = ['math', 'math', 'math', 'kk', 'mc'];
    tasks.forEach((t, i) => {
      const right = scoreVerl({ prompt: t.prompt, completion: answers[i] as string, row: t.row });
      expect(right.status, `${t.subsets.data_source}: ${right.reason ?? ''}`).toBe('ok');
      expect(Object.keys(right.parts ?? {})).toContain(routes[i]);
      expect(scoreVerl({ prompt: t.prompt, completion: [...answers.slice(0, 3).map(() => '\\boxed{9}'), '<think>x</think>\n<answer>(1) Amelia is a knave\n(2) Penelope is a knight\n(3) Evelyn is a knave</answer>', '\\boxed{A}'][i] as string, row: t.row }).status).toBe('wrong');
    });
  });

  it('trains a step of rlvr on the file, each rollout scored by its own route', async () => {
    const out = join(dir, 'run');
    const args = ['rlvr', '--model', base, '--data', FIXTURE, '--out', out, '--steps', '1', '--group-size', '2', '--prompts-per-step', '5', '--max-new-tokens', '6', '--temperature', '1', '--overlong', 'none', '--backend', 'wasm', '--workers', '1', '--seed', '1', '--quiet'];
    expect(await main(args), io.err).toBe(0);
    const rollouts = await readAll(join(out, 'rollouts.arrows'));
    expect(rollouts).toHaveLength(10);
    const route: Record<string, string> = { 'openai/gsm8k': 'math', 'DigitalLearningGmbH/MATH-lighteval': 'math', kk_logic: 'kk', mmlu_pro: 'mc' };
    for (const r of rollouts) {
      const source = (JSON.parse(String(r.example)) as { data_source: string }).data_source;
      expect(r.status).not.toBe('unscorable');
      expect(Object.keys(JSON.parse(String(r.reward_parts)) as object), source).toContain(route[source]);
    }
  }, 120_000);
});
