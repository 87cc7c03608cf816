/**
 * A teacher behind any OpenAI-compatible server (vLLM, SGLang, llama.cpp, Ollama,
 * hosted APIs, or `warmup serve`), through the `openai` package.
 *
 * - `/v1/completions` for raw prompts (the R1 template needs the prompt verbatim) or
 *   `/v1/chat/completions` with the prompt as the user turn; chat lists (`chat`) always
 *   go to `/v1/chat/completions`, so the server applies its own chat template.
 * - Bounded concurrency across all requests; several base URLs are balanced by fewest
 *   requests in flight.
 * - Retries with exponential backoff and jitter on 429, 5xx and timeouts, a per-request
 *   timeout and cancellation: the `openai` client's own (`maxRetries`, `timeout`,
 *   `signal`).
 * - Nothing a server does crashes a run: an error, an empty reply, a malformed body or
 *   a reply cut at max tokens becomes a completion with that status.
 * - Token and cost accounting in `usage`.
 */
import OpenAI from 'openai';
import type { ChatTeacher, TeacherCompletion, TeacherSampleOptions } from './types.js';
import { Semaphore } from '../util/semaphore.js';
import type { ChatMessage } from '../util/chat.js';

export interface OpenAITeacherConfig {
  /** One or more base URLs, e.g. http://localhost:8000/v1. */
  readonly baseUrls: readonly string[];
  readonly model: string;
  /** Default: the OPENAI_API_KEY environment variable, else a placeholder (local servers ignore it). */
  readonly apiKey?: string;
  readonly mode: 'completions' | 'chat';
  /** Requests in flight at once, over all base URLs. */
  readonly concurrency: number;
  readonly maxRetries: number;
  /** Per attempt. */
  readonly timeoutMs: number;
  /** USD per million prompt / completion tokens, for cost accounting (0: not counted). */
  readonly pricePerMillionIn: number;
  readonly pricePerMillionOut: number;
}

export const DEFAULT_OPENAI_TEACHER: Omit<OpenAITeacherConfig, 'baseUrls' | 'model'> = {
  mode: 'completions',
  concurrency: 8,
  maxRetries: 4,
  timeoutMs: 600_000, // a long QwQ trace at 8k tokens can take minutes
  pricePerMillionIn: 0,
  pricePerMillionOut: 0,
};

/** Running totals. */
export interface TeacherUsage {
  requests: number;
  failedRequests: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  byStatus: Record<string, number>;
}

/**
 * A chat reply's text. Reasoning servers (vLLM and SGLang with a reasoning parser,
 * DeepSeek's API) return the chain of thought apart, as `reasoning_content` (or
 * `reasoning`); it is put back in front inside `<think>…</think>`, where the K&K
 * format and the SFT traces expect it, unless the content already opens with one.
 */
export function withReasoning(message: { content?: string | null }): string {
  const content = message.content ?? '';
  const extra = message as { reasoning_content?: unknown; reasoning?: unknown };
  const reasoning = typeof extra.reasoning_content === 'string' ? extra.reasoning_content : typeof extra.reasoning === 'string' ? extra.reasoning : '';
  if (reasoning === '' || content.trimStart().startsWith('<think>')) return content;
  return `<think>${reasoning}</think>${content}`;
}

export class OpenAITeacher implements ChatTeacher {
  readonly id: string;
  readonly usage: TeacherUsage = { requests: 0, failedRequests: 0, promptTokens: 0, completionTokens: 0, costUsd: 0, byStatus: {} };
  private readonly clients: { client: OpenAI; inFlight: number; url: string }[];
  private readonly config: OpenAITeacherConfig;
  private readonly admission: Semaphore;

  constructor(config: Partial<OpenAITeacherConfig> & Pick<OpenAITeacherConfig, 'baseUrls' | 'model'>) {
    this.config = { ...DEFAULT_OPENAI_TEACHER, ...config };
    if (this.config.baseUrls.length === 0) throw new Error('openai teacher: give at least one --base-url');
    if (!(this.config.concurrency >= 1)) throw new Error(`openai teacher: concurrency must be >= 1, got ${this.config.concurrency}`);
    this.admission = new Semaphore(this.config.concurrency);
    const apiKey = this.config.apiKey ?? process.env.OPENAI_API_KEY ?? 'not-needed';
    this.clients = this.config.baseUrls.map((url) => ({
      url,
      inFlight: 0,
      client: new OpenAI({ baseURL: url, apiKey, maxRetries: this.config.maxRetries, timeout: this.config.timeoutMs }),
    }));
    this.id = `openai:${this.config.model}`;
  }

  private record(status: string, n = 1): void {
    this.usage.byStatus[status] = (this.usage.byStatus[status] ?? 0) + n;
  }

  /** n completions of a raw prompt (`/v1/completions`), or of the prompt as the user turn in chat mode. */
  sample(prompt: string, options: TeacherSampleOptions): Promise<TeacherCompletion[]> {
    return this.request(this.config.mode === 'completions' ? { prompt } : { messages: [{ role: 'user', content: prompt }] }, options);
  }

  /** n replies to a chat list (`/v1/chat/completions`, whatever the mode): the server applies its own chat template. */
  chat(messages: readonly ChatMessage[], options: TeacherSampleOptions): Promise<TeacherCompletion[]> {
    return this.request({ messages }, options);
  }

  private async request(input: { prompt: string } | { messages: readonly ChatMessage[] }, options: TeacherSampleOptions): Promise<TeacherCompletion[]> {
    await this.admission.acquire();
    const target = this.clients.reduce((a, b) => (b.inFlight < a.inFlight ? b : a));
    target.inFlight++;
    const t0 = performance.now();
    const common = {
      model: this.config.model,
      n: options.n,
      temperature: options.temperature,
      top_p: options.topP,
      max_tokens: options.maxTokens,
      ...(options.stop.length > 0 ? { stop: [...options.stop] } : {}),
    };
    const reqOptions = options.signal ? { signal: options.signal } : {};
    try {
      this.usage.requests++;
      let choices: { text: string; finish: string | null }[];
      let usage: { prompt_tokens?: number; completion_tokens?: number } | undefined;
      if ('prompt' in input) {
        const r = await target.client.completions.create({ ...common, prompt: input.prompt, stream: false }, reqOptions);
        if (!Array.isArray(r.choices)) throw new MalformedReply(`no choices in the reply from ${target.url}`);
        choices = r.choices.map((c) => ({ text: c.text, finish: c.finish_reason }));
        usage = r.usage;
      } else {
        const messages = input.messages.map((m) => ({ role: m.role, content: m.content }) as OpenAI.Chat.ChatCompletionMessageParam);
        const r = await target.client.chat.completions.create({ ...common, messages, stream: false }, reqOptions);
        if (!Array.isArray(r.choices)) throw new MalformedReply(`no choices in the reply from ${target.url}`);
        choices = r.choices.map((c) => ({ text: withReasoning(c.message), finish: c.finish_reason }));
        usage = r.usage;
      }
      const latencyMs = performance.now() - t0;
      const promptTokens = usage?.prompt_tokens ?? 0;
      const completionTokens = usage?.completion_tokens ?? 0;
      this.usage.promptTokens += promptTokens;
      this.usage.completionTokens += completionTokens;
      this.usage.costUsd += (promptTokens * this.config.pricePerMillionIn + completionTokens * this.config.pricePerMillionOut) / 1e6;
      const perChoice = choices.length > 0 ? Math.round(completionTokens / choices.length) : 0;
      const out = choices.map((c): TeacherCompletion => {
        if (typeof c.text !== 'string') return { text: '', nTokens: 0, latencyMs, finishReason: c.finish ?? 'unknown', status: 'malformed', error: 'choice without text' };
        const status = c.text.trim() === '' ? 'empty' : c.finish === 'length' ? 'truncated' : 'ok';
        return { text: c.text, nTokens: perChoice, latencyMs, finishReason: c.finish ?? 'unknown', status };
      });
      // A server may return fewer choices than asked; the missing ones are recorded too.
      while (out.length < options.n) out.push({ text: '', nTokens: 0, latencyMs, finishReason: 'missing', status: 'malformed', error: `the server returned ${choices.length} of ${options.n} choices` });
      out.forEach((c) => this.record(c.status));
      return out;
    } catch (e) {
      this.usage.failedRequests++;
      const status = e instanceof MalformedReply || (e instanceof SyntaxError) || /JSON|Unexpected token/i.test(String((e as Error).message)) ? 'malformed' : 'error';
      const error = `${target.url}: ${(e as Error).message}`.slice(0, 500);
      this.record(status, options.n);
      if (options.signal?.aborted) throw e;
      return Array.from({ length: options.n }, () => ({ text: '', nTokens: 0, latencyMs: performance.now() - t0, finishReason: 'error', status, error }));
    } finally {
      target.inFlight--;
      this.admission.release();
    }
  }
}

class MalformedReply extends Error {}
