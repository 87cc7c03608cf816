/**
 * Chat messages as data: checking a `{role, content}` list from a dataset row, and the
 * ChatML rendering (the Qwen models' format, and verl's usual students') that the verl
 * task layout and the SFT `messages` format share.
 */

/** One chat message. */
export interface ChatMessage {
  readonly role: string;
  readonly content: string;
  /** An assistant turn's reasoning, apart from its answer (OpenAI-style servers, Qwen3 templates). */
  readonly reasoning_content?: string;
}

/** A chat list's messages, checked: each a `{role, content}` of strings. */
export function chatMessages(value: unknown, column = 'prompt'): ChatMessage[] {
  if (!Array.isArray(value) || value.length === 0) throw new Error(`'${column}' must be a non-empty list of {role, content} messages`);
  return value.map((m: unknown, i) => {
    const { role, content } = (m ?? {}) as { role?: unknown; content?: unknown };
    if (typeof role !== 'string' || typeof content !== 'string') throw new Error(`'${column}'[${i}] must be {role, content} with string values, got ${JSON.stringify(m)}`);
    return { role, content };
  });
}

/** Messages in ChatML (the Qwen models' chat format, verl's usual students), with the assistant's turn opened. */
export const renderChatML = (messages: readonly ChatMessage[]): string =>
  `${messages.map((m) => `<|im_start|>${m.role}\n${m.content}<|im_end|>\n`).join('')}<|im_start|>assistant\n`;
