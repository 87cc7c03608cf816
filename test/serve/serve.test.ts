// warmup serve on loopback, driven by the OpenAI-compatible teacher (a real HTTP server,
// not a mock), plus the teacher's fault handling against a misbehaving loopback server.
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { lastValueFrom, of, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/model/backend.js';
import { trainByteBpe } from '../../src/model/tokenizer.js';
import { presetConfig, Transformer } from '../../src/model/transformer.js';
import { createOpenAIServer } from '../../src/serve/server.js';
import { generatePuzzles } from '../../src/kk/generator.js';
import { traces } from '../../src/stages/traces.js';
import { OpenAITeacher } from '../../src/teacher/openai.js';
import { R1_TEMPLATE } from '../../src/teacher/templates.js';

const listen = async (server: Server): Promise<string> => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
};
const close = (server: Server): Promise<void> => new Promise((r) => server.close(() => r()));

describe('warmup serve + the OpenAI-compatible teacher', () => {
  let server: Server;
  let base: string;
  let model: Transformer;
  beforeAll(async () => {
    await selectBackend('wasm');
    const tokenizer = trainByteBpe(['A very special island is inhabited only by knights and knaves. <think> </think> <answer>'], 300);
    model = Transformer.init(presetConfig('tiny', tokenizer.vocabSize, { hiddenSize: 32, intermediateSize: 64, numLayers: 1, numHeads: 2, numKvHeads: 1, maxPositions: 4096 }), 1);
    server = createOpenAIServer({ model, tokenizer, name: 'student' });
    base = await listen(server);
  });
  afterAll(async () => {
    await close(server);
    model.dispose();
  });

  it('serves /v1/models, completions and chat (non-streaming and streaming) with OpenAI shapes', async () => {
    const models = (await (await fetch(`${base}/models`)).json()) as { data: { id: string }[] };
    expect(models.data[0]?.id).toBe('student');
    const r = (await (await fetch(`${base}/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'student', prompt: 'A very', max_tokens: 5, n: 2, seed: 3 }) })).json()) as {
      choices: { text: string; finish_reason: string }[];
      usage: { completion_tokens: number; total_tokens: number };
    };
    expect(r.choices).toHaveLength(2);
    expect(r.usage.total_tokens).toBeGreaterThan(r.usage.completion_tokens);
    const s = await fetch(`${base}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'student', messages: [{ role: 'user', content: 'hi' }], max_tokens: 4, stream: true }) });
    expect(s.headers.get('content-type')).toMatch(/text\/event-stream/);
    const text = await s.text();
    expect(text).toMatch(/"object":"chat.completion.chunk"/);
    expect(text.trim().endsWith('data: [DONE]')).toBe(true);
  });

  it('streams tokens as they are made: the chunks add up to the non-streamed text', async () => {
    const body = { model: 'student', prompt: 'A very special', max_tokens: 12, temperature: 1, seed: 5 };
    const post = (b: object) => fetch(`${base}/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(b) });
    const whole = (await (await post(body)).json()) as { choices: { text: string }[] };
    const events = (await (await post({ ...body, stream: true })).text()).split('\n\n').filter((e) => e.startsWith('data: ') && !e.includes('[DONE]'));
    const chunks = events.map((e) => JSON.parse(e.slice(6)) as { choices: { text: string; finish_reason: string | null }[] });
    expect(chunks.length).toBeGreaterThan(2);
    expect(chunks.map((c) => c.choices[0]?.text ?? '').join('')).toBe(whole.choices[0]?.text);
    expect(chunks[chunks.length - 1]?.choices[0]?.finish_reason).not.toBeNull();
  });

  it.each([
    [{ prompt: 'x', max_tokens: 0 }, 400, /max_tokens/],
    [{ prompt: 5 }, 400, /'prompt' must be a string/],
    [{ model: 'gpt-9', prompt: 'x' }, 404, /the model "gpt-9" does not exist/],
    [{ prompt: 'x', temperature: 'hot' }, 400, /temperature/],
  ])('answers a bad request %j with %i and an OpenAI error body', async (body, status, message) => {
    const r = await fetch(`${base}/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(r.status).toBe(status);
    const j = (await r.json()) as { error: { message: string; type: string } };
    expect(j.error.message).toMatch(message);
    expect(j.error.type).toBe('invalid_request_error');
    const bad = await fetch(`${base}/completions`, { method: 'POST', body: '{not json' });
    expect(bad.status).toBe(400);
    expect((await fetch(`${base}/nowhere`)).status).toBe(404);
  });

  it('drives the traces stage end to end through the openai client', async () => {
    for (const mode of ['completions', 'chat'] as const) {
      const teacher = new OpenAITeacher({ baseUrls: [base], model: 'student', mode, concurrency: 2, maxRetries: 0, timeoutMs: 30_000 });
      const puzzles = [...generatePuzzles({ people: [3], count: 2, seed: 1 })];
      const groups = await lastValueFrom(of(...puzzles).pipe(traces({ teacher, template: R1_TEMPLATE, sample: { n: 2, temperature: 1, topP: 1, maxTokens: 8, stop: [] }, filter: { keep: 'all', maxTokens: 0, dedup: false } }), toArray()));
      expect(groups.flatMap((g) => g.sampled)).toHaveLength(4);
      for (const t of groups.flatMap((g) => g.sampled)) {
        expect(t.teacher).toBe('openai:student');
        expect(['ok', 'truncated', 'empty'], t.finish_reason).toContain(t.status);
        expect(t.correct).not.toBe(true); // an untrained student is not right
      }
      expect(teacher.usage.requests).toBe(2);
      expect(teacher.usage.completionTokens).toBeGreaterThan(0);
    }
  });
});

describe('warmup serve with the model\'s chat template', () => {
  it('renders chat requests with the folder\'s template, and answers its refusal with a 400', async () => {
    await selectBackend('wasm');
    const tokenizer = trainByteBpe(['[user] hi [assistant] <think> </think>'], 300);
    tokenizer.chatTemplate =
      "{% if messages[0].role == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}" +
      '{{ bos_token }}{% for m in messages %}[{{ m.role }}] {{ m.content }}\n{% endfor %}{% if add_generation_prompt %}[assistant] {% endif %}';
    const model = Transformer.init(presetConfig('tiny', tokenizer.vocabSize, { hiddenSize: 32, intermediateSize: 64, numLayers: 1, numHeads: 2, numKvHeads: 1, maxPositions: 512 }), 1);
    const server = createOpenAIServer({ model, tokenizer, name: 'student' });
    const url = await listen(server);
    try {
      const post = (messages: object[]) => fetch(`${url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ messages, max_tokens: 2 }) });
      const ok = (await (await post([{ role: 'user', content: 'hi' }, { role: 'tool', content: 'x' }])).json()) as { usage: { prompt_tokens: number } };
      // The template, not ChatML: its own markers, a role ChatML would refuse, and the eos text as bos_token.
      expect(ok.usage.prompt_tokens).toBe(tokenizer.encode('<|endoftext|>[user] hi\n[tool] x\n[assistant] ').length);
      const refused = await post([{ role: 'system', content: 'be brief' }]);
      expect(refused.status).toBe(400);
      expect(((await refused.json()) as { error: { message: string } }).error.message).toBe("the model's chat template refused these messages: System role not supported");
    } finally {
      await close(server);
      model.dispose();
    }
  });
});

describe('the OpenAI-compatible teacher against a faulty server', () => {
  let server: Server;
  let base: string;
  let calls = 0;
  const script: ((res: ServerResponse) => void)[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      calls++;
      req.resume();
      const step = script.shift();
      if (step) return step(res);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'x', object: 'text_completion', created: 0, model: 'm', choices: [{ index: 0, text: '<think>t</think><answer>(1) A is a knight</answer>', finish_reason: 'stop' }], usage: { prompt_tokens: 3, completion_tokens: 7, total_tokens: 10 } }));
    });
    base = await listen(server);
  });
  afterAll(() => close(server));
  const status = (code: number) => (res: ServerResponse) => {
    res.writeHead(code, { 'content-type': 'application/json', 'retry-after-ms': '10' });
    res.end(JSON.stringify({ error: { message: `status ${code}` } }));
  };
  const opts = { n: 1, temperature: 0, topP: 1, maxTokens: 16, stop: [] };

  it('retries 429 and 500, then succeeds', async () => {
    const teacher = new OpenAITeacher({ baseUrls: [base], model: 'm', maxRetries: 3, timeoutMs: 5000 });
    script.push(status(429), status(500));
    calls = 0;
    const [c] = await teacher.sample('p', opts);
    expect(c?.status).toBe('ok');
    expect(calls).toBe(3);
  });

  it('records garbage JSON, exhausted retries and timeouts as statuses, never throwing', async () => {
    const teacher = new OpenAITeacher({ baseUrls: [base], model: 'm', maxRetries: 1, timeoutMs: 300 });
    script.push((res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"choices": [garbage');
    });
    expect((await teacher.sample('p', opts))[0]?.status).toBe('malformed');
    script.push(status(500), status(500));
    const [e] = await teacher.sample('p', opts);
    expect(e?.status).toBe('error');
    expect(e?.error).toMatch(/500/);
    const slow = (res: ServerResponse) => setTimeout(() => status(200)(res), 1500);
    script.push(slow, slow);
    const [t] = await teacher.sample('p', opts);
    expect(t?.status).toBe('error');
    expect(t?.error).toMatch(/timed out|timeout/i);
    expect(teacher.usage.byStatus).toMatchObject({ malformed: 1, error: 2 });
    // The server is fine again and the teacher carries on.
    expect((await teacher.sample('p', opts))[0]?.status).toBe('ok');
  });

  it('lets a traces run finish through failures, recording each one', async () => {
    const teacher = new OpenAITeacher({ baseUrls: [base], model: 'm', maxRetries: 0, timeoutMs: 5000, concurrency: 1 });
    script.push(status(500), (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('not json at all');
    });
    const puzzles = [...generatePuzzles({ people: [3], count: 4, seed: 2 })];
    const groups = await lastValueFrom(of(...puzzles).pipe(traces({ teacher, template: R1_TEMPLATE, sample: { ...opts, n: 1 }, filter: { keep: 'all', maxTokens: 0, dedup: false }, concurrency: 1 }), toArray()));
    expect(groups).toHaveLength(4);
    expect(groups.map((g) => g.sampled[0]?.status).sort()).toEqual(['error', 'malformed', 'ok', 'ok']);
    expect(groups.flatMap((g) => g.sampled).filter((t) => t.status !== 'ok').every((t) => t.correct === null && t.finish_reason === 'error')).toBe(true);
  });

  it('keeps a reasoning server\'s reasoning_content, inside <think>, in chat mode', async () => {
    const teacher = new OpenAITeacher({ baseUrls: [base], model: 'm', mode: 'chat', maxRetries: 0, timeoutMs: 5000 });
    const reply = (message: Record<string, unknown>) => (res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'x', object: 'chat.completion', created: 0, model: 'm', choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason: 'stop' }] }));
    };
    script.push(reply({ content: '<answer>(1) A is a knight</answer>', reasoning_content: 'Suppose A is a knight.' }));
    expect((await teacher.sample('p', opts))[0]?.text).toBe('<think>Suppose A is a knight.</think><answer>(1) A is a knight</answer>');
    // Servers that name the field `reasoning`, and content that already holds its <think>.
    script.push(reply({ content: 'x', reasoning: 'r' }), reply({ content: '<think>t</think>x', reasoning_content: 'r' }), reply({ content: 'plain' }));
    expect((await teacher.sample('p', opts))[0]?.text).toBe('<think>r</think>x');
    expect((await teacher.sample('p', opts))[0]?.text).toBe('<think>t</think>x');
    expect((await teacher.sample('p', opts))[0]?.text).toBe('plain');
  });

  it('marks a reply cut at max tokens as truncated, and an empty one as empty', async () => {
    const teacher = new OpenAITeacher({ baseUrls: [base], model: 'm', maxRetries: 0, timeoutMs: 5000 });
    for (const [text, finish, want] of [['abc', 'length', 'truncated'], ['  ', 'stop', 'empty']] as const) {
      script.push((res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: 'x', object: 'text_completion', created: 0, model: 'm', choices: [{ index: 0, text, finish_reason: finish }] }));
      });
      expect((await teacher.sample('p', opts))[0]?.status).toBe(want);
    }
  });
});

export const here = join('.', 'test');
