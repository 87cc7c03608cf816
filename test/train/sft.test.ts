import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectExamples, FirstFit, makeBatches, type TokenizedExample } from '../../src/train/sft.js';
import { ChatTemplate } from '../../src/model/chat-template.js';
import { ROOT, tempDir } from '../helpers.js';
import { Rng } from '../../src/util/rng.js';

/** First-fit packing by scanning every row, as makeBatches did: the reference. */
function naivePacking(needs: readonly number[], maxLength: number): number[] {
  const used: number[] = [];
  return needs.map((need) => {
    let i = used.findIndex((u) => u + need <= maxLength);
    if (i < 0) i = used.push(0) - 1;
    used[i] = (used[i] as number) + need;
    return i;
  });
}

describe('SFT packing', () => {
  it('FirstFit picks the row a scan of every row picks (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 64 }), fc.array(fc.integer({ min: 1, max: 80 }), { maxLength: 300 }), (maxLength, needs) => {
        const fit = new FirstFit();
        const used: number[] = [];
        const got = needs.map((need) => {
          let i = fit.find(need);
          if (i < 0) {
            used.push(0);
            i = fit.add(maxLength);
          }
          used[i] = (used[i] as number) + need;
          fit.set(i, maxLength - (used[i] as number));
          return i;
        });
        expect(got).toEqual(naivePacking(needs, maxLength));
        expect(fit.size).toBe(used.length);
      }),
      { numRuns: 300 },
    );
  });

  it('packs examples first-fit into rows, each example whole and in its own segment', () => {
    const rng = new Rng(3);
    const examples: TokenizedExample[] = Array.from({ length: 500 }, (_, k) => {
      const n = 2 + rng.int(60);
      return { ids: Array.from({ length: n }, (_, t) => k * 100 + t), lossMask: Array.from({ length: n }, (_, t) => (t > 0 ? 1 : 0)) };
    });
    const config = { maxLength: 64, batchSize: 4, packing: true };
    const batches = makeBatches(examples, config, 0, new Rng(7));
    const rows = batches.flatMap((b) => b.ids.map((ids, r) => ({ ids, seg: b.segmentIds[r] as number[] })));
    // The same shuffled order, packed by the reference, gives the same row lengths.
    const order = new Rng(7).shuffle([...examples.keys()]).map((i) => examples[i] as TokenizedExample);
    const assigned = naivePacking(order.map((e) => e.ids.length - 1), config.maxLength);
    const lengths = new Map<number, number>();
    order.forEach((e, k) => lengths.set(assigned[k] as number, (lengths.get(assigned[k] as number) ?? 0) + e.ids.length - 1));
    expect(rows.map((r) => r.seg.filter((s) => s >= 0).length)).toEqual([...lengths.values()]);
    expect(rows.every((r) => r.seg.filter((s) => s >= 0).length <= config.maxLength)).toBe(true);
  });
});

describe('SFT data', () => {
  it('reads prompt/completion rows and messages rows (ChatML prompt, last assistant turn as the completion), naming bad rows', async () => {
    const dir = await tempDir();
    const file = join(dir, 'sft.jsonl');
    const rows = [
      { prompt: 'P', completion: 'C' },
      { messages: [{ role: 'system', content: 'S' }, { role: 'user', content: 'U' }, { role: 'assistant', content: 'A' }] },
    ];
    await writeFile(file, rows.map((r) => JSON.stringify(r)).join('\n'));
    expect(await collectExamples(file)).toEqual([
      { prompt: 'P', completion: 'C' },
      { prompt: '<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n', completion: 'A<|im_end|>' },
    ]);
    await writeFile(file, JSON.stringify({ messages: [{ role: 'user', content: 'U' }] }));
    await expect(collectExamples(file)).rejects.toThrow(`${file} row 1: 'messages' must end with an assistant turn after at least one other (found roles: user)`);
    await writeFile(file, JSON.stringify({ messages: [{ role: 'user', content: 3 }] }));
    await expect(collectExamples(file)).rejects.toThrow(`${file} row 1: 'messages'[0] must be {role, content} with string values`);
    await writeFile(file, JSON.stringify({ text: 'x' }));
    await expect(collectExamples(file)).rejects.toThrow(`${file} row 1: needs string 'prompt' and 'completion' columns, a 'messages' chat list, or 'prompt' and 'completion' chat lists (found: text)`);
  });

  it("reads TRL's conversational prompt/completion rows, and renders chat rows with the model's chat template when it has one", async () => {
    const dir = await tempDir();
    const file = join(dir, 'chat.jsonl');
    const rows = [
      { prompt: [{ role: 'user', content: 'U' }], completion: [{ role: 'assistant', content: 'A' }] },
      { messages: [{ role: 'user', content: 'U' }, { role: 'assistant', content: 'A' }] },
    ];
    await writeFile(file, rows.map((r) => JSON.stringify(r)).join('\n'));
    const chatml = { prompt: '<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n', completion: 'A<|im_end|>' };
    expect(await collectExamples(file)).toEqual([chatml, chatml]);
    // Llama 3's template: the prompt opens the assistant header; the completion is what the whole conversation adds.
    const llama3 = new ChatTemplate(readFileSync(join(ROOT, 'test/fixtures/chat-templates/llama3.jinja'), 'utf8'), { bos_token: '<|begin_of_text|>' });
    const head = '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nU<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n';
    expect(await collectExamples(file, llama3)).toEqual([{ prompt: head, completion: 'A<|eot_id|>' }, { prompt: head, completion: 'A<|eot_id|>' }]);
    // A template whose whole conversation does not begin with its prompt cannot give a completion.
    const odd = new ChatTemplate("{% for m in messages %}{{ m.content }}{% endfor %}{% if add_generation_prompt %}[open]{% endif %}");
    await expect(collectExamples(file, odd)).rejects.toThrow(`${file} row 1: the chat template renders the conversation so that it does not begin with its prompt`);
    await writeFile(file, JSON.stringify({ prompt: [{ role: 'user', content: 'U' }], completion: [{ role: 'assistant' }] }));
    await expect(collectExamples(file)).rejects.toThrow(`${file} row 1: 'completion'[0] must be {role, content} with string values`);
  });
});
