/**
 * `warmup serve`: a student checkpoint behind the OpenAI API — `/v1/models`,
 * `/v1/completions` and `/v1/chat/completions`, streaming (server-sent events) and
 * not — so a trained student can act as a teacher, or be evaluated by any
 * OpenAI-compatible tool. Requests are served one at a time (one model, one thread);
 * bad requests get OpenAI-style error bodies with 4xx codes.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { ChatTemplate } from '../model/chat-template.js';
import { generate, generateStreaming, type Generation } from '../model/sample.js';
import { specialText, type Tokenizer } from '../model/tokenizer.js';
import type { Transformer } from '../model/transformer.js';
import { renderChatML } from '../util/chat.js';

export interface ServeConfig {
  readonly model: Transformer;
  readonly tokenizer: Tokenizer;
  /** The model id clients pass. */
  readonly name: string;
  /** Largest max_tokens accepted. */
  readonly maxTokensLimit?: number;
}

class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
  ) {
    super(message);
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: ServerResponse, e: RequestError): void {
  sendJson(res, e.status, { error: { message: e.message, type: e.status >= 500 ? 'server_error' : 'invalid_request_error', param: e.param, code: e.code } });
}

async function readBody(req: IncomingMessage, limit = 1 << 20): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new RequestError(413, `request body larger than ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new RequestError(400, 'the request body is not valid JSON');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new RequestError(400, 'the request body must be a JSON object');
  return body as Record<string, unknown>;
}

interface Sampling {
  maxTokens: number;
  temperature: number;
  topP: number;
  n: number;
  stop: string[];
  seed: number;
  stream: boolean;
}

function samplingOf(b: Record<string, unknown>, limit: number, defaultMax: number): Sampling {
  const num = (k: string, fallback: number, lo: number, hi: number, integer = false): number => {
    const v = b[k] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi || (integer && !Number.isInteger(v))) {
      throw new RequestError(400, `'${k}' must be ${integer ? 'an integer' : 'a number'} in [${lo}, ${hi}], got ${JSON.stringify(b[k])}`, k);
    }
    return v;
  };
  const stop = b.stop === undefined || b.stop === null ? [] : typeof b.stop === 'string' ? [b.stop] : b.stop;
  if (!Array.isArray(stop) || !stop.every((s) => typeof s === 'string')) throw new RequestError(400, "'stop' must be a string or a list of strings", 'stop');
  return {
    maxTokens: num('max_tokens', defaultMax, 1, limit, true),
    temperature: num('temperature', 1, 0, 2),
    topP: num('top_p', 1, 0, 1),
    n: num('n', 1, 1, 16, true),
    stop: stop,
    seed: num('seed', Math.floor(Math.random() * 2 ** 31), 0, 2 ** 32 - 1, true),
    stream: b.stream === true,
  };
}

/** Cuts text at the first stop string (OpenAI servers leave the stop string out). */
const cutAtStop = (text: string, stop: readonly string[]): string => {
  let end = text.length;
  for (const s of stop) {
    const i = text.indexOf(s);
    if (i >= 0 && i < end) end = i;
  }
  return text.slice(0, end);
};

/**
 * Renders chat messages with the model's own chat template when its folder has one;
 * otherwise with the ChatML markers (Qwen's format) if the tokenizer has them, or as
 * plain "User: …" lines. A template's own refusal (roles that do not alternate, say) is
 * the request's error.
 */
function chatPrompt(messages: unknown, tokenizer: Tokenizer, template: ChatTemplate | null): string {
  if (!Array.isArray(messages) || messages.length === 0) throw new RequestError(400, "'messages' must be a non-empty list", 'messages');
  const roles = template ? null : ['system', 'user', 'assistant'];
  const checked = messages.map((m, i) => {
    const { role, content } = (m ?? {}) as { role?: unknown; content?: unknown };
    if (typeof role !== 'string' || (roles && !roles.includes(role))) throw new RequestError(400, `messages[${i}].role must be ${roles ? 'system, user or assistant' : 'a string'}`, 'messages');
    if (typeof content !== 'string') throw new RequestError(400, `messages[${i}].content must be a string`, 'messages');
    return { role, content };
  });
  if (template) {
    try {
      return template.render(checked);
    } catch (e) {
      throw new RequestError(400, `the model's chat template refused these messages: ${(e as Error).message}`, 'messages');
    }
  }
  if (tokenizer.special['<|im_start|>'] !== undefined) return renderChatML(checked);
  return `${checked.map(({ role, content }) => `${role === 'user' ? 'User' : role === 'assistant' ? 'Assistant' : 'System'}: ${content}\n`).join('')}Assistant:`;
}

/** The model's chat template, compiled once, with its special tokens' text; null without one. */
function compileTemplate(tokenizer: Tokenizer): ChatTemplate | null {
  if (tokenizer.chatTemplate === undefined) return null;
  const bos = specialText(tokenizer, tokenizer.bos);
  const eos = specialText(tokenizer, tokenizer.eos);
  return new ChatTemplate(tokenizer.chatTemplate, { ...(bos ? { bos_token: bos } : {}), ...(eos ? { eos_token: eos } : {}) });
}

/** Creates the HTTP server (not listening yet). */
export function createOpenAIServer(config: ServeConfig): Server {
  const { model, tokenizer, name } = config;
  const limit = config.maxTokensLimit ?? Math.min(8192, model.config.maxPositions - 1);
  const template = compileTemplate(tokenizer);
  // One model, one request at a time, in arrival order.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const next = queue.then(work);
    queue = next.catch(() => undefined);
    return next;
  };
  /**
   * Generates for `prompts` × n. With `onDelta`, text is reported as it is made
   * (per choice, up to any stop string), for streaming.
   */
  const run = (prompts: string[], s: Sampling, extraStop: string[], onDelta?: (choice: number, text: string) => void): Promise<{ gens: Generation[]; promptTokens: number }> =>
    serial(async () => {
      const ids = prompts.flatMap((p) => Array.from({ length: s.n }, () => tokenizer.encode(p)));
      if (ids.some((x) => x.length === 0)) throw new RequestError(400, 'the prompt is empty', 'prompt');
      const longest = Math.max(...ids.map((x) => x.length));
      if (longest + s.maxTokens > model.config.maxPositions) {
        throw new RequestError(400, `prompt (${longest} tokens) + max_tokens (${s.maxTokens}) exceeds the model's ${model.config.maxPositions} positions`, 'max_tokens', 'context_length_exceeded');
      }
      const stop = [...s.stop, ...extraStop];
      const config = { maxNewTokens: s.maxTokens, temperature: s.temperature, topP: s.topP, stop, seed: s.seed };
      let gens: Generation[];
      if (onDelta) {
        const tokens = ids.map((): number[] => []);
        const sent = ids.map(() => '');
        gens = await generateStreaming(model, tokenizer, ids, config, (step) => {
          step.forEach((t, i) => {
            if (t.length === 0) return;
            tokens[i]?.push(...t);
            const text = cutAtStop(tokenizer.decode(tokens[i] as number[], { skipSpecial: true }), stop);
            // Hold back a character split across tokens until it is whole.
            if (text.endsWith('\uFFFD') || !text.startsWith(sent[i] as string) || text.length === (sent[i] as string).length) return;
            onDelta(i, text.slice((sent[i] as string).length));
            sent[i] = text;
          });
        });
        gens.forEach((g, i) => {
          const rest = cutAtStop(g.text, stop).slice((sent[i] as string).length);
          if (rest) onDelta(i, rest);
        });
      } else {
        await new Promise((r) => setImmediate(r));
        gens = generate(model, tokenizer, ids, config);
      }
      return { gens, promptTokens: ids.reduce((n, x) => n + x.length, 0) };
    });

  const startStream = (res: ServerResponse): ((chunk: object) => void) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    return (chunk) => res.write(`data: ${JSON.stringify(chunk)}\n\n`);
  };

  return createServer((req, res) => {
    void (async () => {
      try {
        const url = new URL(req.url ?? '/', 'http://localhost');
        const path = url.pathname.replace(/\/+$/, '');
        if (path === '/v1/models' || path === '/models') {
          if (req.method !== 'GET') throw new RequestError(405, `${req.method} is not allowed on ${path}`);
          return sendJson(res, 200, { object: 'list', data: [{ id: name, object: 'model', created: 0, owned_by: 'warmup' }] });
        }
        const isCompletion = path === '/v1/completions' || path === '/completions';
        const isChat = path === '/v1/chat/completions' || path === '/chat/completions';
        if (!isCompletion && !isChat) throw new RequestError(404, `no route ${path}: use /v1/models, /v1/completions or /v1/chat/completions`);
        if (req.method !== 'POST') throw new RequestError(405, `${req.method} is not allowed on ${path}; use POST`);
        const body = await readBody(req);
        if (body.model !== undefined && body.model !== name) throw new RequestError(404, `the model ${JSON.stringify(body.model)} does not exist; this server has '${name}'`, 'model', 'model_not_found');
        const id = `${isChat ? 'chatcmpl' : 'cmpl'}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
        const created = Math.floor(Date.now() / 1000);
        if (isCompletion) {
          const prompt = body.prompt;
          const prompts = typeof prompt === 'string' ? [prompt] : Array.isArray(prompt) && prompt.length > 0 && prompt.every((p) => typeof p === 'string') ? (prompt) : null;
          if (!prompts) throw new RequestError(400, "'prompt' must be a string or a non-empty list of strings", 'prompt');
          const s = samplingOf(body, limit, 16);
          if (s.stream) {
            const send = startStream(res);
            const { gens } = await run(prompts, s, [], (index, text) => send({ id, object: 'text_completion', created, model: name, choices: [{ index, text, finish_reason: null, logprobs: null }] }));
            gens.forEach((g, index) => send({ id, object: 'text_completion', created, model: name, choices: [{ index, text: '', finish_reason: g.finishReason, logprobs: null }] }));
            return res.end('data: [DONE]\n\n');
          }
          const { gens, promptTokens } = await run(prompts, s, []);
          const choices = gens.map((g, index) => ({ index, text: cutAtStop(g.text, s.stop), finish_reason: g.finishReason, logprobs: null }));
          const usage = { prompt_tokens: promptTokens, completion_tokens: gens.reduce((n, g) => n + g.tokens.length, 0), total_tokens: 0 };
          usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
          return sendJson(res, 200, { id, object: 'text_completion', created, model: name, choices, usage });
        }
        const prompt = chatPrompt(body.messages, tokenizer, template);
        const s = samplingOf(body, limit, limit);
        if (s.stream) {
          const send = startStream(res);
          const opened = new Set<number>();
          const { gens } = await run([prompt], s, ['<|im_end|>'], (index, content) => {
            const delta = opened.has(index) ? { content } : { role: 'assistant', content };
            opened.add(index);
            send({ id, object: 'chat.completion.chunk', created, model: name, choices: [{ index, delta, finish_reason: null }] });
          });
          gens.forEach((g, index) => send({ id, object: 'chat.completion.chunk', created, model: name, choices: [{ index, delta: opened.has(index) ? {} : { role: 'assistant', content: '' }, finish_reason: g.finishReason }] }));
          return res.end('data: [DONE]\n\n');
        }
        const { gens, promptTokens } = await run([prompt], s, ['<|im_end|>']);
        const choices = gens.map((g, index) => ({ index, message: { role: 'assistant', content: cutAtStop(g.text, [...s.stop, '<|im_end|>']) }, finish_reason: g.finishReason, logprobs: null }));
        const usage = { prompt_tokens: promptTokens, completion_tokens: gens.reduce((n, g) => n + g.tokens.length, 0), total_tokens: 0 };
        usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
        return sendJson(res, 200, { id, object: 'chat.completion', created, model: name, choices, usage });
      } catch (e) {
        if (e instanceof RequestError) return sendError(res, e);
        return sendError(res, new RequestError(500, `internal error: ${(e as Error).message}`));
      }
    })();
  });
}
