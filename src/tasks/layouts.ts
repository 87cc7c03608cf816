/**
 * Dataset layouts: how a row of a known dataset becomes a task. A layout is data plus
 * small functions: the columns that identify it, the prompt template, the text that
 * fills the template, the built-in reward that scores it and the columns that reward
 * reads, and the subsets a result is broken down by.
 *
 * The registry is ordered: a row is read as the first layout whose columns it has, so
 * more specific layouts come first (HumanEval's `prompt` + `test` + `entry_point`
 * before a bare `prompt`; MMLU-Pro's `question` + `options` before a bare `question`).
 *
 * To add a domain: write a `TaskLayout` below and put it in `TASK_LAYOUTS` ahead of
 * any layout whose columns its rows also have. RL (`warmup rlvr`) and evaluation
 * (`warmup eval`) then read it alike.
 */
import { R1_TEMPLATE, WORLD_KK_TEMPLATE, type PromptTemplate } from '../teacher/templates.js';
import { WORLD_REWARD, worldPrompt, type Domain } from '../world/world.js';
import { chatMessages, renderChatML, type ChatMessage } from '../util/chat.js';

/** A dataset row, keyed by column name. */
export type Row = Readonly<Record<string, unknown>>;

/** What a needed column must hold. */
export type ColumnKind = 'string' | 'array';

export interface TaskLayout {
  /** Exact id, e.g. 'kk', 'math'. */
  readonly id: string;
  /** The name errors use: "a MATH row needs 'problem'". */
  readonly name: string;
  /** Columns a row must have, in order; a row with all of them fits. The first is the layout's key column. */
  readonly needs: Readonly<Record<string, ColumnKind>>;
  /** Columns that must hold exactly these values (the toy world's `domain`); absent: the columns decide. */
  readonly values?: Readonly<Record<string, string>>;
  /** The prompt template (its {quiz} takes `text(row).quiz`); null: that text is the prompt as it is. */
  readonly template: PromptTemplate | null;
  /** The text for the template's {quiz}, and the names for {names}. */
  text(row: Row): { readonly quiz: string; readonly names?: readonly string[] };
  /** The built-in reward that scores this layout, or null: the run names one (`--reward`). */
  readonly reward: string | null;
  /** The columns that reward reads (ground truth, tests, choices). */
  readonly truth: readonly string[];
  /** Subset labels of a row, e.g. { n_people: '5' }. */
  subsets(row: Row): Record<string, string>;
  /** Stop strings that end an answer early. */
  readonly stop: readonly string[];
  /** For layouts whose prompt is a chat list: the messages, which a model's own chat template renders instead of `text` (`TaskOptions.chat`). */
  messages?(row: Row): ChatMessage[];
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

/** A string column the layout's `needs` guarantees. */
const text = (row: Row, column: string): string => row[column] as string;

/** K&K: our puzzles, the K&K HF JSONL and Logic-RL parquet (whose `prompt` is a chat list, not used). Subset: N people. */
export const KK_LAYOUT: TaskLayout = {
  id: 'kk',
  name: 'K&K',
  needs: { quiz: 'string' },
  template: R1_TEMPLATE,
  text: (row) => ({ quiz: text(row, 'quiz'), ...(Array.isArray(row.names) ? { names: row.names.map(String) } : {}) }),
  reward: 'kk',
  truth: ['names', 'solution', 'roles', 'solution_text_format', 'reward_model'],
  subsets(row) {
    if (Array.isArray(row.names)) return { n_people: String(row.names.length) };
    const format = str(row.solution_text_format);
    return { n_people: format ? String((format.match(/\(\d+\)/g) ?? []).length) : '?' };
  },
  stop: [],
};

/** MATH and MATH-500: `problem` + `answer` (or a boxed answer in `solution`). Subsets: subject (`subject` or `type`) and level. */
export const MATH_LAYOUT: TaskLayout = {
  id: 'math',
  name: 'MATH',
  needs: { problem: 'string' },
  template: MATH_TEMPLATE,
  text: (row) => ({ quiz: text(row, 'problem') }),
  reward: 'math',
  truth: ['answer', 'solution'],
  subsets: (row) => ({ subject: str(row.subject) ?? str(row.type) ?? 'all', level: (str(row.level) ?? '?').replace(/^Level\s*/i, '') }),
  stop: [],
};

/** HumanEval and HumanEval+: the model continues the code prompt; `test` defines check(candidate). */
export const HUMANEVAL_LAYOUT: TaskLayout = {
  id: 'humaneval',
  name: 'HumanEval',
  needs: { prompt: 'string', test: 'string', entry_point: 'string' },
  template: null,
  text: (row) => ({ quiz: text(row, 'prompt') }),
  reward: 'code',
  truth: ['prompt', 'test', 'entry_point', 'language'],
  subsets: () => ({}),
  stop: ['\ndef ', '\nclass ', '\nif __name__', '\nprint('],
};

const LETTERS = 'ABCDEFGHIJ';

/** MMLU-Pro: `question` + `options` (up to ten), `answer` letter or `answer_index`. Subset: category. */
export const MMLU_PRO_LAYOUT: TaskLayout = {
  id: 'mmlu-pro',
  name: 'MMLU-Pro',
  needs: { question: 'string', options: 'array' },
  template: MC_TEMPLATE,
  text: (row) => ({ quiz: `${text(row, 'question')}\n${(row.options as unknown[]).map((o, k) => `${LETTERS[k]}. ${String(o)}`).join('\n')}` }),
  reward: 'mc',
  truth: ['answer', 'answer_index', 'options'],
  subsets: (row) => ({ category: str(row.category) ?? 'all' }),
  stop: [],
};

/**
 * The toy world's domains (`src/world/`): rows carry a `domain` column, and each
 * domain has one prompt, the chat frame its base was pretrained in (`worldPrompt`),
 * the same in pretraining, RL and evaluation. K&K rows of the world use the world's
 * K&K frame. These come first: a world row also has the columns of MATH, HumanEval or
 * MMLU-Pro, but must not get their R1 prompts.
 */
/** A world target domain's layout: its columns plus `domain`, the world prompt, the domain's reward. */
function worldLayout(domain: Domain, name: string, needs: TaskLayout['needs'], truth: readonly string[], subsets: TaskLayout['subsets']): TaskLayout {
  return {
    id: `world-${domain}`,
    name,
    needs: { ...needs, domain: 'string' },
    values: { domain },
    template: null,
    text: (row) => ({ quiz: worldPrompt(row) }),
    reward: WORLD_REWARD[domain],
    truth,
    subsets,
    stop: [],
  };
}

export const WORLD_MATH_LAYOUT = worldLayout('math', 'world math', { problem: 'string', answer: 'string' }, ['answer'], (row) => ({ steps: str(row.level) ?? '?' }));
// Code subsets: the family, and (v4) where the base could have met the creature's legs.
export const WORLD_CODE_LAYOUT = worldLayout('code', 'world code', { prompt: 'string', test: 'string', entry_point: 'string' }, ['prompt', 'test', 'entry_point'], (row) => ({
  family: str(row.family) ?? 'all',
  ...(str(row.legs_seen_in) ? { legs_seen_in: str(row.legs_seen_in) as string } : {}),
}));
export const WORLD_MC_LAYOUT = worldLayout('mc', 'world multiple choice', { question: 'string', options: 'array' }, ['answer', 'options'], (row) => ({ category: str(row.category) ?? 'all' }));

export const WORLD_KK_LAYOUT: TaskLayout = {
  ...KK_LAYOUT,
  id: 'world-kk',
  name: 'world K&K',
  needs: { quiz: 'string', domain: 'string' },
  values: { domain: 'kk' },
  template: WORLD_KK_TEMPLATE,
};

/**
 * verl's RL parquet: `prompt` is a chat list and `data_source` names the dataset; the
 * ground truth is `reward_model.ground_truth`. The prompt is the messages in the model's
 * chat template when the run gives one (`TaskOptions.chat`), else in ChatML; the reward
 * is `verl`, which routes by `data_source`. Subset: data_source.
 */
export const VERL_LAYOUT: TaskLayout = {
  id: 'verl',
  name: 'verl',
  needs: { prompt: 'array', data_source: 'string' },
  template: null,
  text: (row) => ({ quiz: renderChatML(chatMessages(row.prompt)) }),
  messages: (row) => chatMessages(row.prompt),
  reward: 'verl',
  truth: ['reward_model', 'data_source'],
  subsets: (row) => ({ data_source: text(row, 'data_source') }),
  stop: [],
};

/** A ready prompt, used as it is; the run names the reward, which reads any column (e.g. a custom module's `target`). */
export const PROMPT_LAYOUT: TaskLayout = {
  id: 'prompt',
  name: 'prompt',
  needs: { prompt: 'string' },
  template: null,
  text: (row) => ({ quiz: text(row, 'prompt') }),
  reward: null,
  truth: [],
  subsets: () => ({}),
  stop: [],
};

/** A bare question (no options), used as it is; the run names the reward. */
export const QUESTION_LAYOUT: TaskLayout = {
  id: 'question',
  name: 'question',
  needs: { question: 'string' },
  template: null,
  text: (row) => ({ quiz: text(row, 'question') }),
  reward: null,
  truth: [],
  subsets: () => ({}),
  stop: [],
};

/** True when `row` has every column `layout` needs, of the right kind, and the layout accepts its values. */
export function fitsLayout(layout: TaskLayout, row: Row): boolean {
  const columns = Object.entries(layout.needs).every(([column, kind]) => (kind === 'array' ? Array.isArray(row[column]) : typeof row[column] === 'string'));
  return columns && Object.entries(layout.values ?? {}).every(([column, value]) => row[column] === value);
}

/** "'prompt', 'test' and 'entry_point'". */
export function describeNeeds(layout: TaskLayout): string {
  const cols = Object.keys(layout.needs).map((c) => (layout.values?.[c] !== undefined ? `'${c}' = '${layout.values[c]}'` : `'${c}'`));
  return cols.length > 1 ? `${cols.slice(0, -1).join(', ')} and ${cols[cols.length - 1] as string}` : (cols[0] ?? '');
}

/** An ordered registry of layouts, detected from a row's columns. */
export interface TaskLayouts {
  readonly all: readonly TaskLayout[];
  /** The layout with this id; throws naming the known ids. */
  get(id: string): TaskLayout;
  /** The first layout the row fits, or null. */
  detect(row: Row): TaskLayout | null;
}

/** Makes a registry from layouts in detection order; duplicate ids throw. */
export function makeTaskLayouts(layouts: readonly TaskLayout[]): TaskLayouts {
  const byId = new Map<string, TaskLayout>();
  for (const l of layouts) {
    if (byId.has(l.id)) throw new Error(`task layout '${l.id}' is listed twice`);
    if (Object.keys(l.needs).length === 0) throw new Error(`task layout '${l.id}' needs no column, so every row would fit it`);
    byId.set(l.id, l);
  }
  const all = [...layouts];
  return {
    all,
    get(id) {
      const l = byId.get(id);
      if (!l) throw new Error(`unknown task layout '${id}' (layouts: ${all.map((x) => x.id).join(', ')})`);
      return l;
    },
    detect: (row) => all.find((l) => fitsLayout(l, row)) ?? null,
  };
}

/** The built-in layouts, most specific first. */
export const TASK_LAYOUTS: TaskLayouts = makeTaskLayouts([WORLD_MATH_LAYOUT, WORLD_CODE_LAYOUT, WORLD_MC_LAYOUT, WORLD_KK_LAYOUT, HUMANEVAL_LAYOUT, KK_LAYOUT, MATH_LAYOUT, MMLU_PRO_LAYOUT, VERL_LAYOUT, PROMPT_LAYOUT, QUESTION_LAYOUT]);
