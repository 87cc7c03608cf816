/**
 * Prompt templates: data, not code. Each has an id and a version, recorded in every
 * trace (`template` column, e.g. "r1@1"), so a dataset says how its prompts were made.
 * `{quiz}` is replaced by the puzzle text; `{names}` by the islanders, comma-separated.
 */
import { readFile } from 'node:fs/promises';
import { hash53 } from '../util/hash.js';

export interface PromptTemplate {
  readonly id: string;
  readonly version: number;
  readonly text: string;
}

/** True when the prompt already opens the think block, so completions continue inside it. */
export const opensThink = (t: PromptTemplate): boolean => t.text.trimEnd().endsWith('<think>');

/** The R1-style template the paper used (DeepSeek-R1-Zero's), raw text for /v1/completions. */
export const R1_TEMPLATE: PromptTemplate = {
  id: 'r1',
  version: 1,
  text:
    'A conversation between User and Assistant. The user asks a question, and the Assistant solves it. ' +
    'The assistant first thinks about the reasoning process in the mind and then provides the user with the answer. ' +
    'The reasoning process and answer are enclosed within <think> </think> and <answer> </answer> tags, respectively, ' +
    'i.e., <think> reasoning process here </think> <answer> answer here </answer>. ' +
    'User: {quiz} At the end, state the identity of each person inside <answer> </answer> tags, ' +
    'one per line: (1) … (2) …. Assistant: <think>',
};

/** Logic-RL's ChatML prompt (system + user turn, assistant turn opened with <think>). */
export const LOGIC_RL_TEMPLATE: PromptTemplate = {
  id: 'logic-rl',
  version: 1,
  text:
    '<|im_start|>system\nYou are a helpful assistant. The assistant first thinks about the reasoning process in the mind ' +
    'and then provides the user with the answer. The reasoning process and answer are enclosed within <think> </think> ' +
    'and<answer> </answer> tags, respectively, i.e., <think> reasoning process here </think><answer> answer here </answer>.  ' +
    'Now the user asks you to solve a logical reasoning problem. After thinking, when you finally reach a conclusion, ' +
    'clearly state the identity of each character within <answer> </answer> tags. i.e., <answer> (1) Zoey is a knight\n(2) ... </answer>.\n' +
    '<|im_end|>\n<|im_start|>user\n{quiz}\n<|im_end|>\n<|im_start|>assistant\n<think>',
};

/**
 * The toy world's chat frame (src/world/world.ts): the same "User: … Assistant:" turn
 * as its target domains, and the assistant turn left open, so a warmed-up model learns
 * to open <think> itself, the habit it can carry to a math, code or multiple-choice turn.
 */
export const WORLD_KK_TEMPLATE: PromptTemplate = {
  id: 'world',
  version: 1,
  text: 'User: {quiz} Think it through, then state the identity of each person inside <answer> </answer> tags, one per line: (1) … (2) ….\nAssistant:',
};

export const TEMPLATES: Readonly<Record<string, PromptTemplate>> = { r1: R1_TEMPLATE, 'logic-rl': LOGIC_RL_TEMPLATE, world: WORLD_KK_TEMPLATE };

/** Fills a template. */
export function renderPrompt(t: PromptTemplate, vars: { quiz: string; names?: readonly string[] }): string {
  return t.text.replaceAll('{quiz}', vars.quiz).replaceAll('{names}', (vars.names ?? []).join(', '));
}

/**
 * A built-in template by id, or a user file: its text is the template; its id is the
 * file name and its version a hash of the text, so edits show in the data.
 */
export async function loadTemplate(ref: string): Promise<PromptTemplate> {
  const builtin = TEMPLATES[ref];
  if (builtin) return builtin;
  let text: string;
  try {
    text = await readFile(ref, 'utf8');
  } catch (e) {
    throw new Error(`template '${ref}' is neither a built-in (${Object.keys(TEMPLATES).join(', ')}) nor a readable file: ${(e as Error).message}`, { cause: e });
  }
  if (!text.includes('{quiz}')) throw new Error(`template file ${ref} has no {quiz} placeholder`);
  return { id: ref.split('/').pop() ?? ref, version: hash53(text) % 100000, text };
}

export const templateTag = (t: PromptTemplate): string => `${t.id}@${t.version}`;
