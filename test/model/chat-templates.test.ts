/**
 * Published chat templates (Qwen2.5, Qwen3, Llama 3) rendered by warmup's ChatTemplate
 * (@huggingface/jinja) against the text Python's jinja2 renders for the same cases,
 * set up as transformers sets it up (test/fixtures/chat-templates/make_expected.py).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ChatTemplate } from '../../src/model/chat-template.js';
import type { ChatMessage } from '../../src/util/chat.js';
import { ROOT } from '../helpers.js';

const DIR = join(ROOT, 'test/fixtures/chat-templates');
interface Case {
  readonly name: string;
  readonly template: string;
  readonly messages: ChatMessage[];
  readonly add_generation_prompt: boolean;
  readonly vars?: Record<string, unknown>;
  readonly bos_token?: string;
  readonly eos_token?: string;
}
const cases = JSON.parse(readFileSync(join(DIR, 'cases.json'), 'utf8')) as Case[];
const expected = new Map((JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as { name: string; text: string }[]).map((e) => [e.name, e.text]));

describe('published chat templates render as Python jinja2 renders them', () => {
  it('has an expected text for every case', () => {
    expect(cases.length).toBeGreaterThanOrEqual(9);
    for (const c of cases) expect(expected.has(c.name), c.name).toBe(true);
  });
  for (const c of cases) {
    it(c.name, () => {
      const source = readFileSync(join(DIR, c.template), 'utf8');
      const specials = { ...(c.bos_token !== undefined ? { bos_token: c.bos_token } : {}), ...(c.eos_token !== undefined ? { eos_token: c.eos_token } : {}) };
      expect(new ChatTemplate(source, specials).render(c.messages, c.add_generation_prompt, c.vars)).toBe(expected.get(c.name));
    });
  }
});
