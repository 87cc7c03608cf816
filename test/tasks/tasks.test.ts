// One loader for RL and evaluation: every dataset layout gives the same prompt in
// `warmup rlvr` as in `warmup eval`, and a row that fits no layout is named with the
// columns it would need.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRLExamples } from '../../src/cli/rlvr.js';
import { loadEvalSet } from '../../src/eval/benchmarks.js';
import { LOGIC_RL_TEMPLATE, R1_TEMPLATE, renderPrompt } from '../../src/teacher/templates.js';
import { KK_LAYOUT, makeTaskLayouts, MATH_TEMPLATE, TASK_LAYOUTS, type TaskLayout } from '../../src/tasks/layouts.js';
import { loadTasks, taskFromRow, taskRewardSpecs } from '../../src/tasks/tasks.js';
import { worldPrompt } from '../../src/world/world.js';
import { ROOT, sharedDataset, tempDir } from '../helpers.js';

const fixture = (name: string): string => join(ROOT, 'test', 'fixtures', 'tasks', name);
const shipped = (name: string): string => join(ROOT, 'data', name);

/** Every layout both loaders read: file, layout, the bench eval names it, reward, and a check of the prompt's form. */
const LAYOUTS: { file: string; layout: string; bench: string; reward: string; prompt: RegExp }[] = [
  { file: shipped('target/kk.jsonl'), layout: 'kk', bench: 'kk', reward: 'kk', prompt: /^A conversation between User and Assistant[\s\S]*knights and knaves[\s\S]*<think>$/ },
  { file: shipped('eval/kk.jsonl'), layout: 'kk', bench: 'kk', reward: 'kk', prompt: /^A conversation between User and Assistant[\s\S]*<think>$/ },
  { file: shipped('eval/arith.jsonl'), layout: 'math', bench: 'math500', reward: 'math', prompt: /\\boxed\{\}[\s\S]*User: What is \d+ \w+ \d+\?/ },
  { file: fixture('kk-hf.jsonl'), layout: 'kk', bench: 'kk', reward: 'kk', prompt: /User: A very special island[\s\S]*<think>$/ },
  { file: fixture('logic-rl-kk.parquet'), layout: 'kk', bench: 'kk', reward: 'kk', prompt: /User: A very special island[\s\S]*<think>$/ },
  { file: fixture('math500.jsonl'), layout: 'math', bench: 'math500', reward: 'math', prompt: /final answer is put in \\boxed\{\}\. User: Convert the point/ },
  { file: fixture('math-train.jsonl'), layout: 'math', bench: 'math500', reward: 'math', prompt: /\\boxed\{\}\. User: Let \\\[f\(x\)/ },
  { file: fixture('humaneval.jsonl'), layout: 'humaneval', bench: 'humaneval', reward: 'code', prompt: /^from typing import List\n\n\ndef has_close_elements/ },
  { file: shipped('world/math/rl.jsonl'), layout: 'world-math', bench: 'world-math', reward: 'math', prompt: /^User: \w+ has \d+ [\s\S]* Put the final answer in \\boxed\{\}\.\nAssistant:$/ },
  { file: shipped('world/code/rl.jsonl'), layout: 'world-code', bench: 'world-code', reward: 'code', prompt: /^User: Complete this Python function\.\ndef \w+\([\s\S]*"""\nAssistant:$/ },
  { file: shipped('world/mc/rl.jsonl'), layout: 'world-mc', bench: 'world-mc', reward: 'mc', prompt: /^User: [\s\S]*\nA\) [\s\S]*\nAnswer with the option in \\boxed\{\}\.\nAssistant:$/ },
  { file: shipped('world/kk/dev.jsonl'), layout: 'world-kk', bench: 'world-kk', reward: 'kk', prompt: /^User: A very special island[\s\S]*inside <answer> <\/answer> tags[\s\S]*\nAssistant:$/ },
  { file: fixture('mmlu-pro.jsonl'), layout: 'mmlu-pro', bench: 'mmlu-pro', reward: 'mc', prompt: /User: Which of the following is a prime number\?\nA\. 21\nB\. 27\nC\. 29[\s\S]*J\. 57 Assistant: <think>$/ },
  { file: fixture('verl-math.jsonl'), layout: 'verl', bench: 'verl', reward: 'verl', prompt: /^<\|im_start\|>user\nNatalia sold clips[\s\S]*<\|im_end\|>\n<\|im_start\|>assistant\n$/ },
];

describe('one task loader for rlvr and eval', () => {
  it.each(LAYOUTS)('$layout rows of $file get the same prompts in rlvr and eval', async ({ file, layout, bench, reward, prompt }) => {
    const rl = await loadRLExamples(file, { maxExamples: 5 });
    const ev = await loadEvalSet(file, undefined, { limit: 5 });
    expect(ev).toMatchObject({ bench, rewards: [{ ref: reward }] });
    expect(rl.examples.map((e) => e.layout)).toEqual(rl.examples.map(() => layout));
    expect(rl.examples.map((e) => [e.id, e.prompt])).toEqual(ev.items.map((i) => [i.id, i.prompt]));
    expect(rl.examples.map((e) => e.row)).toEqual(ev.items.map((i) => i.row));
    expect(rl.examples[0]?.prompt).toMatch(prompt);
    // A --template replaces every layout's own, in both.
    const rlT = await loadRLExamples(file, { maxExamples: 2, template: 'logic-rl' });
    const evT = await loadEvalSet(file, bench, { limit: 2, template: 'logic-rl' });
    expect(rlT.examples.map((e) => e.prompt)).toEqual(evT.items.map((i) => i.prompt));
    expect(rlT.examples[0]?.prompt).toMatch(/^<\|im_start\|>system/);
  });

  it("splits world code rows by family and by where the base could have met the creature's legs", async () => {
    const { tasks } = await loadTasks(shipped('world/code/test.jsonl'), { limit: 50 });
    expect(new Set(tasks.map((t) => t.subsets.legs_seen_in))).toEqual(new Set(['questions', 'text']));
    expect(tasks.every((t) => t.subsets.family === t.row.family)).toBe(true);
  });

  it('trains MATH rows on the math template eval uses, not on the bare problem', async () => {
    const [row] = (await loadTasks(fixture('math500.jsonl'), { limit: 1 })).tasks;
    const { examples } = await loadRLExamples(fixture('math500.jsonl'), { maxExamples: 1 });
    expect(examples[0]?.prompt).toBe(renderPrompt(MATH_TEMPLATE, { quiz: row?.row.problem as string }));
    expect(examples[0]?.prompt).not.toBe(row?.row.problem);
  });

  it('renders K&K rows with the R1 template and their names, and Logic-RL rows by their quiz, not their chat prompt', async () => {
    const { tasks } = await loadTasks(fixture('logic-rl-kk.parquet'));
    expect(tasks).toHaveLength(3);
    const first = tasks[0];
    expect(first?.prompt).toBe(renderPrompt(R1_TEMPLATE, { quiz: first?.row.quiz as string, names: ['Amelia', 'Penelope', 'Evelyn'] }));
    expect(first?.subsets).toEqual({ n_people: '3' });
    expect(first?.reward.ref).toBe('kk');
    expect(Object.keys(first?.reward.fields ?? {})).toEqual(['names', 'solution', 'solution_text_format', 'reward_model']);
    const hf = (await loadTasks(fixture('kk-hf.jsonl'))).tasks;
    expect(hf.map((t) => t.prompt)).toEqual(tasks.map((t) => t.prompt));
    const logicRl = (await loadTasks(fixture('kk-hf.jsonl'), { template: 'logic-rl' })).tasks[0];
    expect(logicRl?.prompt).toBe(renderPrompt(LOGIC_RL_TEMPLATE, { quiz: first?.row.quiz as string }));
  });

  it('names reward fields and subsets per layout', async () => {
    const math = (await loadTasks(fixture('math-train.jsonl'))).tasks[0];
    expect(math).toMatchObject({ layout: 'math', subsets: { subject: 'Algebra', level: '5' }, reward: { ref: 'math' } });
    expect(Object.keys(math?.reward.fields ?? {})).toEqual(['solution']);
    const he = (await loadTasks(fixture('humaneval.jsonl'))).tasks[0];
    expect(he).toMatchObject({ id: 'HumanEval/0', layout: 'humaneval', subsets: {}, reward: { ref: 'code' } });
    expect(Object.keys(he?.reward.fields ?? {})).toEqual(['prompt', 'test', 'entry_point']);
    const mc = (await loadTasks(fixture('mmlu-pro.jsonl'))).tasks[1];
    expect(mc).toMatchObject({ id: '71', subsets: { category: 'physics' }, reward: { ref: 'mc', fields: { answer: 'B', answer_index: 1 } } });
    expect((await loadEvalSet(fixture('humaneval.jsonl'))).stop).toEqual(['\ndef ', '\nclass ', '\nif __name__', '\nprint(']);
  });

  it('uses a ready prompt or a bare question as it is in rlvr; eval refuses them (no reward to score with)', async () => {
    const dir = await tempDir();
    const prompts = join(dir, 'prompts.jsonl');
    await writeFile(prompts, `${JSON.stringify({ id: 'q0', prompt: 'digits:', target: '7' })}\n`);
    const questions = join(dir, 'questions.jsonl');
    await writeFile(questions, `${JSON.stringify({ question: 'How many legs has a spider?', answer: '8' })}\n`);
    expect((await loadRLExamples(prompts)).examples[0]).toMatchObject({ id: 'q0', layout: 'prompt', prompt: 'digits:', reward: { ref: null, fields: {} } });
    expect((await loadRLExamples(questions)).examples[0]).toMatchObject({ id: 'row-1', layout: 'question', prompt: 'How many legs has a spider?' });
    expect((await loadRLExamples(questions, { template: 'r1' })).examples[0]?.prompt).toBe(renderPrompt(R1_TEMPLATE, { quiz: 'How many legs has a spider?' }));
    await expect(loadEvalSet(prompts)).rejects.toThrow(/cannot tell the benchmark from its columns \(id, prompt, target\)/);
    expect(taskRewardSpecs((await loadTasks(prompts)).tasks)).toBeNull();
  });

  it('names the row and the columns each layout needs when a row fits none, or not the one asked for', async () => {
    const dir = await tempDir();
    const bad = join(dir, 'bad.jsonl');
    await writeFile(bad, `${JSON.stringify({ quiz: 'Who is a knight?', names: ['A'] })}\n${JSON.stringify({ text: 'x', label: 1 })}\n`);
    await expect(loadTasks(bad)).rejects.toThrow(
      `${bad} row 2: needs a 'problem', 'prompt', 'question' or 'quiz' column (found: text, label); the layouts: world-math: 'problem', 'answer' and 'domain' = 'math'; world-code: 'prompt', 'test', 'entry_point' and 'domain' = 'code'; world-mc: 'question', 'options' and 'domain' = 'mc'; world-kk: 'quiz' and 'domain' = 'kk'; humaneval: 'prompt', 'test' and 'entry_point'; kk: 'quiz'; math: 'problem'; mmlu-pro: 'question' and 'options'; verl: 'prompt' and 'data_source'; prompt: 'prompt'; question: 'question'`,
    );
    await expect(loadTasks(bad, { layout: 'math' })).rejects.toThrow(`${bad} row 1: a MATH row needs 'problem' (found: quiz, names)`);
    await expect(loadTasks(bad, { layout: 'nope' })).rejects.toThrow(/unknown task layout 'nope' \(layouts: world-math, world-code, world-mc, world-kk, humaneval, kk, math, mmlu-pro, verl, prompt, question\)/);
    // Rows past the limit are counted, not read as tasks.
    expect(await loadTasks(bad, { limit: 1 })).toMatchObject({ total: 2, tasks: [{ layout: 'kk' }] });
  });

  it('reads verl rows: the chat prompt in ChatML, the reward routed by data_source, the ground truth from reward_model', async () => {
    const { tasks } = await loadTasks(fixture('verl-math.jsonl'));
    expect(tasks[1]).toMatchObject({ layout: 'verl', subsets: { data_source: 'DigitalLearningGmbH/MATH-lighteval' }, reward: { ref: 'verl' } });
    expect(tasks[1]?.prompt).toBe('<|im_start|>system\nPut the final answer in \\boxed{}.<|im_end|>\n<|im_start|>user\nWhat is $1+2\\cdot 3$?<|im_end|>\n<|im_start|>assistant\n');
    expect(Object.keys(tasks[1]?.reward.fields ?? {})).toEqual(['reward_model', 'data_source']);
    expect(taskRewardSpecs(tasks)).toEqual([{ ref: 'verl' }]);
    // With the model's chat template, rlvr and eval render verl rows alike through it; other layouts keep theirs.
    const chat = (m: readonly { role: string; content: string }[]) => `${m.map((x) => `[${x.role}] ${x.content}`).join(' ')} [assistant]`;
    const rl = await loadRLExamples(fixture('verl-math.jsonl'), { chat });
    const ev = await loadEvalSet(fixture('verl-math.jsonl'), undefined, { chat });
    expect(rl.examples[2]?.prompt).toBe('[user] Simplify $\\frac{6}{8}$. [assistant]');
    expect(rl.examples.map((e) => e.prompt)).toEqual(ev.items.map((i) => i.prompt));
    expect((await loadRLExamples(fixture('math500.jsonl'), { chat, maxExamples: 1 })).examples[0]?.prompt).toMatch(/^A conversation between User and Assistant/);
    expect(() => taskFromRow({ prompt: [{ role: 'user' }], data_source: 'x' }, 4)).toThrow("row 5: 'prompt'[0] must be {role, content} with string values, got {\"role\":\"user\"}");
  });

  it('refuses a file whose rows need different rewards, unless the run names them', async () => {
    const kk = taskFromRow({ quiz: 'q', names: ['A'], solution: [true] }, 0);
    const math = taskFromRow({ problem: '1+1?', answer: '2' }, 1);
    expect(taskRewardSpecs([kk, kk])).toEqual([{ ref: 'kk' }]);
    expect(() => taskRewardSpecs([kk, math])).toThrow(/layouts that name different rewards \(kk, math: kk, math\); give the rewards to use \(--reward …\)/);
    const dir = await tempDir();
    const mixed = join(dir, 'mixed.jsonl');
    await writeFile(mixed, [kk.row, math.row].map((r) => JSON.stringify(r)).join('\n'));
    await expect(loadEvalSet(mixed)).rejects.toThrow(/rows in more than one layout \(kk, math\); evaluate one benchmark per file/);
  });

  it("reads a world row as its domain's layout, with the prompt its base was pretrained on, and only a known domain", () => {
    const row = { id: 'w1', domain: 'math', problem: 'Ada has 2 shells. How many shells does Ada have now?', answer: '2' };
    const task = taskFromRow(row, 0);
    expect(task).toMatchObject({ layout: 'world-math', prompt: worldPrompt(row), reward: { ref: 'math', fields: { answer: '2' } } });
    // The same columns without a world domain are a MATH row, with MATH's prompt.
    expect(taskFromRow({ ...row, domain: 'physics' }, 0).layout).toBe('math');
    expect(taskFromRow({ problem: row.problem, answer: '2' }, 0).layout).toBe('math');
  });

  it('takes new layouts: an ordered registry, detected from columns, duplicates refused', () => {
    // A boxed-answer word problem in GSM8K's columns, ahead of the bare question it would otherwise be.
    const gsm8k: TaskLayout = {
      id: 'gsm8k',
      name: 'GSM8K',
      needs: { question: 'string', answer: 'string' },
      template: MATH_TEMPLATE,
      text: (row) => ({ quiz: row.question as string }),
      reward: 'math',
      truth: ['answer'],
      subsets: () => ({}),
      stop: [],
    };
    const layouts = makeTaskLayouts([gsm8k, ...TASK_LAYOUTS.all]);
    const row = { question: 'Tom has 3 apples and buys 4. How many has he?', answer: '7' };
    expect(TASK_LAYOUTS.detect(row)?.id).toBe('question');
    const task = taskFromRow(row, 0, { layouts });
    expect(task).toMatchObject({ layout: 'gsm8k', reward: { ref: 'math', fields: { answer: '7' } } });
    expect(task.prompt).toBe(renderPrompt(MATH_TEMPLATE, { quiz: row.question }));
    expect(() => makeTaskLayouts([KK_LAYOUT, KK_LAYOUT])).toThrow(/task layout 'kk' is listed twice/);
  });
});

describe.each([
  ['logic-rl-kk/5ppl/test.parquet', 'kk'],
  ['math500/test.jsonl', 'math500'],
  ['math/train.jsonl', 'math500'],
  ['humaneval/HumanEval.jsonl.gz', 'humaneval'],
])('the published %s (../shared)', (relative, bench) => {
  const path = sharedDataset(relative);
  it.skipIf(path === null)('gets the same prompts in rlvr and eval', async () => {
    const rl = await loadRLExamples(path as string, { maxExamples: 50 });
    const ev = await loadEvalSet(path as string, undefined, { limit: 50 });
    expect(ev.bench).toBe(bench);
    expect(rl.examples.map((e) => e.prompt)).toEqual(ev.items.map((i) => i.prompt));
  });
});
