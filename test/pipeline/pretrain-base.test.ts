import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { readRows } from '../../src/data/dataset.js';
import { captureOutput, ROOT, tempDir } from '../helpers.js';

const io = captureOutput();

describe('pipelines/pretrain-base.ts (minimal preset)', () => {
  it('writes a corpus without set items, a tokenizer with one token per name, and a base whose loss fell', async () => {
    const dir = await tempDir();
    expect(await main(['run', join(ROOT, 'pipelines/pretrain-base.ts'), '--preset', 'minimal', '--out', dir]), io.err).toBe(0);
    const docs = readFileSync(join(dir, 'corpus.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { text: string; kind: string });
    expect(docs.length).toBeGreaterThan(300);
    expect(docs.some((d) => /knight|knave|<think>/.test(d.text))).toBe(false);
    const vocab = (JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')) as { model: { vocab: Record<string, number> } }).model.vocab;
    expect(Object.keys(vocab)).toContain('ĠAva');
    for (const f of ['config.json', 'model.safetensors', 'tokenizer.json']) expect(existsSync(join(dir, 'base', f)), f).toBe(true);
    const losses: number[] = [];
    for await (const r of readRows(join(dir, 'pretrain', 'metrics.arrows'))) if (r.name === 'loss') losses.push(r.value as number);
    expect(losses.length).toBeGreaterThan(5);
    expect(losses[losses.length - 1]).toBeLessThan(0.7 * (losses[0] as number));
  });

  it('minimal-copying: an untied model learns name rows first, then the corpus with repeat documents, from that checkpoint', async () => {
    const dir = await tempDir();
    expect(await main(['run', join(ROOT, 'pipelines/pretrain-base.ts'), '--preset', 'minimal-copying', '--out', dir]), io.err).toBe(0);
    const rows = readFileSync(join(dir, 'induction.jsonl'), 'utf8').split('\n').filter(Boolean);
    expect(rows).toHaveLength(48);
    const kinds = new Set(readFileSync(join(dir, 'corpus.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { kind: string }).kind));
    expect(kinds).toContain('repeat');
    expect(kinds).toContain('reading');
    // The second phase gets no --untie-embeddings: its untied head comes from the induction checkpoint it starts from.
    for (const phase of ['induction', 'base', 'base-v4']) expect(JSON.parse(readFileSync(join(dir, phase, 'config.json'), 'utf8')), phase).toMatchObject({ tie_word_embeddings: false });
    // Phase C continues phase B's model on the v4 corpus: options answered by their text, code with a creature's legs.
    const v4 = readFileSync(join(dir, 'corpus-v4.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { text: string; kind: string });
    expect(v4.filter((d) => d.kind === 'mc').every((d) => /Answer with the option in \\boxed\{\}\.\nAssistant: \\boxed\{ \w+\}$/.test(d.text))).toBe(true);
    expect(v4.filter((d) => d.kind === 'code').every((d) => /the number of legs/.test(d.text))).toBe(true);
    const losses: number[] = [];
    for await (const r of readRows(join(dir, 'pretrain-v4', 'metrics.arrows'))) if (r.name === 'loss') losses.push(r.value as number);
    expect(losses.length).toBeGreaterThan(0);
  });

  it('phase C alone: continues a given v3 checkpoint', async () => {
    const dir = await tempDir();
    expect(await main(['run', join(ROOT, 'pipelines/pretrain-base.ts'), '--preset', 'minimal-copying', '--set', 'v3Base=data/models/world-base-v3', '--out', dir]), io.err).toBe(0);
    expect(existsSync(join(dir, 'induction.jsonl'))).toBe(false);
    expect(JSON.parse(readFileSync(join(dir, 'base-v4', 'config.json'), 'utf8'))).toMatchObject({ vocab_size: 1611, tie_word_embeddings: false });
  });
});
