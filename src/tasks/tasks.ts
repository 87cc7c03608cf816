/**
 * One loader for RL and evaluation: any dataset row becomes a task, a prompt plus the
 * reward that checks completions of it, through the layout its columns match
 * (`layouts.ts`). `warmup rlvr` trains on exactly the prompts `warmup eval` scores.
 *
 * @example
 * const { tasks } = await loadTasks('MATH-500/test.jsonl');
 * tasks[0].prompt;        // the problem in the R1 math template
 * tasks[0].reward;        // { ref: 'math', fields: { answer: '…', solution: '…' } }
 * tasks[0].subsets;       // { subject: 'Precalculus', level: '2' }
 */
import { readRows } from '../data/dataset.js';
import type { RewardSpec } from '../reward/registry.js';
import { loadTemplate, renderPrompt, type PromptTemplate } from '../teacher/templates.js';
import type { ChatMessage } from '../util/chat.js';
import { describeNeeds, fitsLayout, TASK_LAYOUTS, type Row, type TaskLayout, type TaskLayouts } from './layouts.js';

/** The reward a task names: a built-in id and the row's columns it reads. */
export interface TaskReward {
  /** Built-in reward id ('kk', 'math', 'code', 'mc'), or null: the run names one (`--reward`). */
  readonly ref: string | null;
  /** The columns of the row that reward reads (ground truth, tests, choices), those present. */
  readonly fields: Readonly<Record<string, unknown>>;
}

/** One task: what the model is asked, and how its answers are scored. */
export interface Task {
  readonly id: string;
  /** The id of the layout the row was read as. */
  readonly layout: string;
  readonly prompt: string;
  /** The chat list the prompt was rendered from (verl rows, without a --template): a server applies its own chat template to these. */
  readonly messages?: readonly ChatMessage[];
  readonly reward: TaskReward;
  /** Subset labels, e.g. { n_people: '5' } or { subject: 'Algebra', level: '3' }. */
  readonly subsets: Readonly<Record<string, string>>;
  /** The whole row: rewards score against it (a custom reward may read any column) and the rollouts log keeps it. */
  readonly row: Row;
}

/** Thrown for a row that fits no layout, or not the layout asked for. */
export class TaskLayoutError extends Error {
  constructor(
    message: string,
    readonly columns: readonly string[],
  ) {
    super(message);
    this.name = 'TaskLayoutError';
  }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);

/** A row's id: its own id column, or `row-N` (1-based). */
export function taskIdOf(row: Row, index: number): string {
  return str(row.id) ?? str(row.task_id) ?? str(row.unique_id) ?? str(row.question_id) ?? str(row.puzzle_id) ?? `row-${index + 1}`;
}

const found = (row: Row): string => Object.keys(row).join(', ') || 'no columns';

/** The error for a row that fits none of `layouts`: the key columns, then each layout's columns. */
function noLayoutError(where: string, row: Row, layouts: TaskLayouts): TaskLayoutError {
  const keys = [...new Set(layouts.all.map((l) => `'${Object.keys(l.needs)[0] as string}'`))];
  const list = keys.length > 1 ? `${keys.slice(0, -1).join(', ')} or ${keys[keys.length - 1] as string}` : (keys[0] ?? '');
  const each = layouts.all.map((l) => `${l.id}: ${describeNeeds(l)}`).join('; ');
  return new TaskLayoutError(`${where}: needs a ${list} column (found: ${found(row)}); the layouts: ${each}`, Object.keys(row));
}

export interface TaskOptions {
  /** Read the row as this layout (default: the first layout its columns fit). */
  readonly layout?: TaskLayout;
  /** A template for every layout in place of the layout's own. */
  readonly template?: PromptTemplate;
  readonly layouts?: TaskLayouts;
  /** Where the row is, for errors ("data.jsonl row 3"). */
  readonly where?: string;
  /** The model's chat template, for layouts whose prompt is a chat list (default: ChatML). */
  readonly chat?: (messages: readonly ChatMessage[]) => string;
}

/** Turns one row into a task; `index` is its 0-based position in the file. */
export function taskFromRow(row: Row, index: number, options: TaskOptions = {}): Task {
  const where = options.where ?? `row ${index + 1}`;
  const layouts = options.layouts ?? TASK_LAYOUTS;
  const layout = options.layout ?? layouts.detect(row);
  if (layout === null) throw noLayoutError(where, row, layouts);
  if (!fitsLayout(layout, row)) throw new TaskLayoutError(`${where}: a ${layout.name} row needs ${describeNeeds(layout)} (found: ${found(row)})`, Object.keys(row));
  const template = options.template ?? layout.template;
  let text: ReturnType<TaskLayout['text']>;
  let messages: ChatMessage[] | undefined;
  try {
    messages = layout.messages && !options.template ? layout.messages(row) : undefined;
    text = options.chat && messages ? { quiz: options.chat(messages) } : layout.text(row);
  } catch (e) {
    throw new TaskLayoutError(`${where}: ${(e as Error).message}`, Object.keys(row));
  }
  const fields: Record<string, unknown> = {};
  for (const c of layout.truth) if (row[c] !== undefined && row[c] !== null) fields[c] = row[c];
  return {
    id: taskIdOf(row, index),
    layout: layout.id,
    prompt: template ? renderPrompt(template, text) : text.quiz,
    ...(messages ? { messages } : {}),
    reward: { ref: layout.reward, fields },
    subsets: layout.subsets(row),
    row,
  };
}

export interface LoadTasksOptions {
  /** Layout id to read every row as (default: each row's own, from its columns). */
  readonly layout?: string;
  /** Template ref (built-in id or file with {quiz}) for every layout in place of its own. */
  readonly template?: string;
  /** Build tasks for the first `limit` rows only (the rest are still counted). */
  readonly limit?: number;
  readonly layouts?: TaskLayouts;
  /** The model's chat template, for chat-list prompts (see `TaskOptions.chat`). */
  readonly chat?: (messages: readonly ChatMessage[]) => string;
}

/** Reads a dataset file (JSONL, Parquet, Arrow) into tasks; `total` counts every row of the file. */
export async function loadTasks(path: string, options: LoadTasksOptions = {}): Promise<{ tasks: Task[]; total: number }> {
  const layouts = options.layouts ?? TASK_LAYOUTS;
  const layout = options.layout !== undefined ? layouts.get(options.layout) : undefined;
  const template = options.template !== undefined ? await loadTemplate(options.template) : undefined;
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const tasks: Task[] = [];
  let total = 0;
  for await (const row of readRows(path)) {
    const index = total++;
    if (tasks.length >= limit) continue;
    tasks.push(taskFromRow(row, index, { layouts, where: `${path} row ${index + 1}`, ...(layout ? { layout } : {}), ...(template ? { template } : {}), ...(options.chat ? { chat: options.chat } : {}) }));
  }
  if (tasks.length === 0) throw new Error(`${path} has no rows`);
  return { tasks, total };
}

/**
 * The reward the tasks name, as reward specs: null when they name none (the run must
 * give one); throws when they name different ones.
 */
export function taskRewardSpecs(tasks: readonly Task[]): RewardSpec[] | null {
  const refs = [...new Set(tasks.map((t) => t.reward.ref))];
  if (refs.length > 1) {
    const layouts = [...new Set(tasks.map((t) => t.layout))].join(', ');
    throw new Error(`the rows are in layouts that name different rewards (${layouts}: ${refs.map((r) => r ?? 'none').join(', ')}); give the rewards to use (--reward …) or split the file`);
  }
  const ref = refs[0];
  return ref ? [{ ref }] : null;
}
