/** The teacher contract: prompt in, n completions out, each with its accounting. */
import type { Puzzle } from '../kk/puzzle.js';
import type { ChatMessage } from '../util/chat.js';

export interface TeacherSampleOptions {
  readonly n: number;
  readonly temperature: number;
  readonly topP: number;
  readonly maxTokens: number;
  readonly stop: readonly string[];
  readonly signal?: AbortSignal;
}

/** One completion and how it went. */
export interface TeacherCompletion {
  readonly text: string;
  /** Completion tokens, as the teacher reports or counts them. */
  readonly nTokens: number;
  readonly latencyMs: number;
  /** 'stop' | 'length' | 'error' … */
  readonly finishReason: string;
  /** 'ok' | 'empty' | 'malformed' | 'truncated' | 'error' */
  readonly status: string;
  readonly error?: string;
}

/** A source of chain-of-thought completions. `puzzle` is given to teachers that solve rather than read. */
export interface Teacher {
  readonly id: string;
  sample(prompt: string, options: TeacherSampleOptions, puzzle?: Puzzle): Promise<TeacherCompletion[]>;
}

/** A teacher that also answers chat lists, rendering them with its own chat template (a server). */
export interface ChatTeacher extends Teacher {
  chat(messages: readonly ChatMessage[], options: TeacherSampleOptions): Promise<TeacherCompletion[]>;
}
