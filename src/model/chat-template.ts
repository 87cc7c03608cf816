/**
 * Chat templates: the Jinja template a Hugging Face folder ships (in
 * `tokenizer_config.json`'s `chat_template`, or in `chat_template.jinja`), rendered with
 * `@huggingface/jinja`, the implementation transformers.js uses.
 */
import { Template } from '@huggingface/jinja';
import type { ChatMessage } from '../util/chat.js';

/**
 * The default chat template in a `tokenizer_config.json` object: a string, or the
 * entry named `default` of a list of `{name, template}`; undefined when there is none.
 */
export function chatTemplateOf(tokenizerConfig: Record<string, unknown>, where: string): string | undefined {
  const t = tokenizerConfig.chat_template;
  if (t === undefined || t === null) return undefined;
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) {
    const named = t.find((x: unknown) => (x as { name?: unknown }).name === 'default') as { template?: unknown } | undefined;
    if (typeof named?.template === 'string') return named.template;
    throw new Error(`${where}: chat_template lists ${t.length} templates but none named 'default'`);
  }
  throw new Error(`${where}: chat_template must be a string or a list of {name, template}`);
}

/** A compiled template; `render` throws the template's own message (e.g. roles must alternate). */
export class ChatTemplate {
  private readonly template: Template;

  constructor(
    readonly source: string,
    private readonly specials: { readonly bos_token?: string; readonly eos_token?: string } = {},
  ) {
    try {
      this.template = new Template(source);
    } catch (e) {
      throw new Error(`chat template does not parse: ${(e as Error).message}`, { cause: e });
    }
  }

  /**
   * The prompt for `messages`, opening the assistant's turn when `addGenerationPrompt`.
   * A message's `reasoning_content` reaches the template (Qwen3's reads it); `vars` are
   * further template variables (`enable_thinking`).
   */
  render(messages: readonly ChatMessage[], addGenerationPrompt = true, vars: Readonly<Record<string, unknown>> = {}): string {
    return this.template.render({ ...vars, messages: messages.map((m) => ({ ...m })), add_generation_prompt: addGenerationPrompt, bos_token: this.specials.bos_token ?? '', eos_token: this.specials.eos_token ?? '' });
  }
}
