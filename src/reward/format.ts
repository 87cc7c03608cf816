/**
 * The `<think>…</think><answer>…</answer>` format shared by the K&K rewards: each tag
 * exactly once, in that order. A prompt that ends with `<think>` (the R1 and Logic-RL
 * templates open the think block for the model) counts as the opening tag.
 */

/** The verdict on a completion's tag structure. */
export type FormatCheck = { readonly ok: true; readonly think: string; readonly answer: string } | { readonly ok: false; readonly reason: string };

const TAGS = ['<think>', '</think>', '<answer>', '</answer>'] as const;

/** Checks the think/answer structure of `completion`, given the `prompt` it continues. */
export function checkThinkAnswer(prompt: string, completion: string): FormatCheck {
  const opened = prompt.trimEnd().endsWith('<think>') && !completion.includes('<think>');
  const text = opened ? `<think>${completion}` : completion;
  const positions: number[] = [];
  for (const tag of TAGS) {
    const count = text.split(tag).length - 1;
    if (count !== 1) return { ok: false, reason: `${tag} appears ${count} times (expected once)` };
    positions.push(text.indexOf(tag));
  }
  for (let i = 1; i < positions.length; i++) {
    if ((positions[i] as number) < (positions[i - 1] as number)) {
      return { ok: false, reason: `${TAGS[i]} comes before ${TAGS[i - 1]}` };
    }
  }
  const [t0, t1, a0, a1] = positions as [number, number, number, number];
  return { ok: true, think: text.slice(t0 + TAGS[0].length, t1), answer: text.slice(a0 + TAGS[2].length, a1) };
}
