/**
 * Evaluation sets in their standard file layouts, read by the task loader RL uses
 * (`src/tasks/`), so a model is evaluated on the prompts it was trained on: a prompt
 * for the model, the row the reward checks against, the reward that scores it (the
 * same reward modules training uses), and the subsets it belongs to.
 *
 * - `kk`: K&K rows with `quiz` + `names` + `solution` (our puzzles, the K&K HF JSONL,
 *   Logic-RL parquet); subset: N people. Prompt: the R1 template (or --template).
 * - `math500` (the `math` layout, MATH and MATH-500 alike): `problem` + `answer` (or a
 *   boxed answer in `solution`); subsets: subject (`subject` or `type`) and level.
 * - `humaneval`: `prompt` + `test` + `entry_point` (HumanEval, HumanEval+); the model
 *   continues the code prompt.
 * - `mmlu-pro`: `question` + `options` + `answer` letter (or `answer_index`); subset:
 *   category.
 *
 * Any other layout with a built-in reward is a benchmark under its layout id.
 */
import type { RewardSpec } from '../reward/registry.js';
import { TASK_LAYOUTS, type TaskLayout } from '../tasks/layouts.js';
import { loadTasks, TaskLayoutError, taskRewardSpecs } from '../tasks/tasks.js';
import type { ChatMessage } from '../util/chat.js';

export type BenchName = 'kk' | 'math500' | 'humaneval' | 'mmlu-pro';
export const BENCH_NAMES: readonly BenchName[] = ['kk', 'math500', 'humaneval', 'mmlu-pro'];

/** Benchmark names that differ from their layout's id. */
const BENCH_ALIASES: Readonly<Record<string, string>> = { math500: 'math' };

/** One question. */
export interface EvalItem {
  readonly id: string;
  readonly prompt: string;
  /** The chat list the prompt was rendered from, if any (a server gets these instead of the text). */
  readonly messages?: readonly ChatMessage[];
  readonly row: Readonly<Record<string, unknown>>;
  /** Subset labels, e.g. { n_people: '5' } or { subject: 'Algebra', level: '3' }. */
  readonly subsets: Readonly<Record<string, string>>;
}

/** A loaded evaluation set. */
export interface EvalSet {
  /** A `BenchName`, or the id of another layout with a built-in reward. */
  readonly bench: string;
  readonly source: string;
  readonly items: EvalItem[];
  readonly rewards: RewardSpec[];
  /** Stop strings that end an answer early (none by default). */
  readonly stop: string[];
}

const benchOf = (layout: TaskLayout): string => Object.entries(BENCH_ALIASES).find(([, id]) => id === layout.id)?.[0] ?? layout.id;

/** The layout a benchmark name reads its file as, or null when the name is no benchmark (no such layout, or one without a reward). */
export function benchLayout(name: string): TaskLayout | null {
  const layout = TASK_LAYOUTS.all.find((l) => l.id === (BENCH_ALIASES[name] ?? name));
  return layout?.reward ? layout : null;
}

/** Guesses the benchmark of a row from its columns (null: no layout with a reward fits). */
export function detectBench(row: Record<string, unknown>): string | null {
  const layout = TASK_LAYOUTS.detect(row);
  return layout?.reward ? benchOf(layout) : null;
}

const cannotTell = (path: string, columns: readonly string[]): Error =>
  new Error(`${path}: cannot tell the benchmark from its columns (${columns.join(', ')}); pass --bench ${BENCH_NAMES.join('|')}`);

/** Reads an evaluation file as `bench` (or the bench its columns imply). */
export async function loadEvalSet(path: string, bench?: string, options: { template?: string; limit?: number; chat?: (messages: readonly ChatMessage[]) => string } = {}): Promise<EvalSet> {
  const forced = bench === undefined ? null : benchLayout(bench);
  if (bench !== undefined && !forced) throw new Error(`--bench ${bench}: not a benchmark (${BENCH_NAMES.join(', ')})`);
  const { tasks } = await loadTasks(path, { ...(forced ? { layout: forced.id } : {}), ...options }).catch((e: unknown) => {
    throw e instanceof TaskLayoutError && !forced ? cannotTell(path, e.columns) : e;
  });
  const layouts = [...new Set(tasks.map((t) => t.layout))];
  if (layouts.length > 1) throw new Error(`${path}: rows in more than one layout (${layouts.join(', ')}); evaluate one benchmark per file`);
  const layout = TASK_LAYOUTS.get(layouts[0] as string);
  const rewards = taskRewardSpecs(tasks);
  if (!rewards) throw cannotTell(path, Object.keys(tasks[0]?.row ?? {}));
  return { bench: benchOf(layout), source: path, items: tasks, rewards, stop: [...layout.stop] };
}
