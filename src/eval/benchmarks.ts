/**
 * Evaluation sets in their standard file layouts, read into one shape: a prompt for
 * the model, the row the reward checks against, the reward that scores it (the same
 * reward modules training uses), and the subsets it belongs to.
 *
 * - `kk`: K&K rows with `quiz` + `names` + `solution` (our puzzles, the K&K HF JSONL,
 *   Logic-RL parquet); subset: N people. Prompt: the R1 template (or --template).
 * - `math500` / `math`: `problem` + `answer` (or a boxed answer in `solution`); subsets:
 *   subject (`subject` or `type`) and level.
 * - `humaneval`: `prompt` + `test` + `entry_point` (HumanEval, HumanEval+); the model
 *   continues the code prompt.
 * - `mmlu-pro`: `question` + `options` + `answer` letter (or `answer_index`); subset:
 *   category.
 */
import { readRows } from '../data/dataset.js';
import type { RewardSpec } from '../reward/registry.js';
import { loadTemplate, renderPrompt, type PromptTemplate } from '../teacher/templates.js';

export type BenchName = 'kk' | 'math500' | 'humaneval' | 'mmlu-pro';
export const BENCH_NAMES: readonly BenchName[] = ['kk', 'math500', 'humaneval', 'mmlu-pro'];

/** One question. */
export interface EvalItem {
  readonly id: string;
  readonly prompt: string;
  readonly row: Readonly<Record<string, unknown>>;
  /** Subset labels, e.g. { n_people: '5' } or { subject: 'Algebra', level: '3' }. */
  readonly subsets: Readonly<Record<string, string>>;
}

/** A loaded evaluation set. */
export interface EvalSet {
  readonly bench: BenchName;
  readonly source: string;
  readonly items: EvalItem[];
  readonly rewards: RewardSpec[];
  /** Stop strings that end an answer early (none by default). */
  readonly stop: string[];
}

/** The R1-style prompt for math, with the answer boxed as the math reward expects. */
export const MATH_TEMPLATE: PromptTemplate = {
  id: 'r1-math',
  version: 1,
  text:
    'A conversation between User and Assistant. The user asks a question, and the Assistant solves it. ' +
    'The assistant first thinks about the reasoning process in the mind and then provides the user with the answer. ' +
    'The reasoning process is enclosed within <think> </think>, and the final answer is put in \\boxed{}. ' +
    'User: {quiz} Assistant: <think>',
};

/** The R1-style prompt for multiple choice. */
export const MC_TEMPLATE: PromptTemplate = {
  id: 'r1-mc',
  version: 1,
  text:
    'A conversation between User and Assistant. The user asks a multiple-choice question, and the Assistant answers it. ' +
    'The assistant first thinks in <think> </think> and then gives the letter of the answer in \\boxed{}. ' +
    'User: {quiz} Assistant: <think>',
};

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);

function idOf(r: Record<string, unknown>, i: number): string {
  return str(r.id) ?? str(r.task_id) ?? str(r.unique_id) ?? str(r.question_id) ?? str(r.puzzle_id) ?? `row-${i + 1}`;
}

/** Guesses the benchmark of a file from its columns. */
export function detectBench(row: Record<string, unknown>): BenchName | null {
  if (typeof row.quiz === 'string') return 'kk';
  if (typeof row.test === 'string' && typeof row.entry_point === 'string') return 'humaneval';
  if (typeof row.question === 'string' && Array.isArray(row.options)) return 'mmlu-pro';
  if (typeof row.problem === 'string') return 'math500';
  return null;
}

function kkPeople(r: Record<string, unknown>): string {
  if (Array.isArray(r.names)) return String(r.names.length);
  const text = str(r.solution_text_format);
  return text ? String((text.match(/\(\d+\)/g) ?? []).length) : '?';
}

/** Reads an evaluation file as `bench` (or the bench its columns imply). */
export async function loadEvalSet(path: string, bench?: BenchName, options: { template?: string; limit?: number } = {}): Promise<EvalSet> {
  const custom = options.template ? await loadTemplate(options.template) : null;
  const items: EvalItem[] = [];
  let kind = bench ?? null;
  let i = 0;
  for await (const r of readRows(path)) {
    if (options.limit !== undefined && items.length >= options.limit) break;
    kind ??= detectBench(r);
    if (kind === null) throw new Error(`${path}: cannot tell the benchmark from its columns (${Object.keys(r).join(', ')}); pass --bench kk|math500|humaneval|mmlu-pro`);
    const where = `${path} row ${i + 1}`;
    const id = idOf(r, i++);
    if (kind === 'kk') {
      if (typeof r.quiz !== 'string') throw new Error(`${where}: a K&K row needs 'quiz' (found: ${Object.keys(r).join(', ')})`);
      const names = Array.isArray(r.names) ? r.names.map(String) : undefined;
      const template = custom ?? (await loadTemplate('r1'));
      items.push({ id, prompt: renderPrompt(template, { quiz: r.quiz, ...(names ? { names } : {}) }), row: r, subsets: { n_people: kkPeople(r) } });
    } else if (kind === 'math500') {
      if (typeof r.problem !== 'string') throw new Error(`${where}: a MATH row needs 'problem' (found: ${Object.keys(r).join(', ')})`);
      const subject = str(r.subject) ?? str(r.type) ?? 'all';
      const level = (str(r.level) ?? '?').replace(/^Level\s*/i, '');
      items.push({ id, prompt: renderPrompt(custom ?? MATH_TEMPLATE, { quiz: r.problem }), row: r, subsets: { subject, level } });
    } else if (kind === 'humaneval') {
      if (typeof r.prompt !== 'string' || typeof r.test !== 'string' || typeof r.entry_point !== 'string') throw new Error(`${where}: a HumanEval row needs 'prompt', 'test' and 'entry_point'`);
      items.push({ id, prompt: custom ? renderPrompt(custom, { quiz: r.prompt }) : r.prompt, row: r, subsets: {} });
    } else {
      if (typeof r.question !== 'string' || !Array.isArray(r.options)) throw new Error(`${where}: an MMLU-Pro row needs 'question' and 'options' (found: ${Object.keys(r).join(', ')})`);
      const letters = 'ABCDEFGHIJ';
      const question = `${r.question}\n${r.options.map((o, k) => `${letters[k]}. ${String(o)}`).join('\n')}`;
      items.push({ id, prompt: renderPrompt(custom ?? MC_TEMPLATE, { quiz: question }), row: r, subsets: { category: str(r.category) ?? 'all' } });
    }
  }
  if (kind === null || items.length === 0) throw new Error(`${path} has no rows`);
  const rewards: Record<BenchName, RewardSpec[]> = { kk: [{ ref: 'kk' }], math500: [{ ref: 'math' }], humaneval: [{ ref: 'code' }], 'mmlu-pro': [{ ref: 'mc' }] };
  return { bench: kind, source: path, items, rewards: rewards[kind], stop: kind === 'humaneval' ? ['\ndef ', '\nclass ', '\nif __name__', '\nprint('] : [] };
}
