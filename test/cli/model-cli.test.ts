import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { readRows } from '../../src/data/dataset.js';
import { captureOutput, tempDir } from '../helpers.js';

const io = captureOutput();

const rows = Array.from({ length: 24 }, (_, i) => ({ prompt: `Q${i % 6}: who is a knight?\nA:`, completion: ` (1) Ann is a ${i % 2 ? 'knave' : 'knight'}` }));

describe('warmup sft and generate', () => {
  it('trains, logs metrics, resumes, and samples from the checkpoint', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'data.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n'));
    const ckpt = join(dir, 'ckpt');
    const args = ['sft', '--data', join(dir, 'data.jsonl'), '--out', ckpt, '--backend', 'wasm', '--max-length', '64', '--batch-size', '4', '--lr', '3e-3', '--warmup-steps', '2', '--eval-fraction', '0.1'];
    expect(await main([...args, '--epochs', '1']), io.err).toBe(0);
    expect(io.err).toMatch(/backend: wasm/);
    expect(io.err).toMatch(/sft .*final loss/);
    for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'optimizer.safetensors', 'trainer_state.json']) expect(existsSync(join(ckpt, f)), f).toBe(true);
    const metrics: Record<string, unknown>[] = [];
    for await (const r of readRows(`${ckpt}-metrics.arrows`)) metrics.push(r);
    const firstRun = metrics.filter((m) => m.name === 'loss').length;
    expect(firstRun).toBeGreaterThan(0);
    expect(metrics.some((m) => m.name === 'eval_loss')).toBe(true);
    // A second epoch continues from the saved step instead of starting over.
    expect(await main([...args, '--epochs', '2', '--resume']), io.err).toBe(0);
    expect(io.err).toMatch(/resuming from .* at step \d+/);
    const after: Record<string, unknown>[] = [];
    for await (const r of readRows(`${ckpt}-metrics.arrows`)) after.push(r);
    const steps = after.filter((m) => m.name === 'loss').map((m) => m.step);
    expect(steps).toEqual([...Array(steps.length).keys()].map((i) => i + 1));
    expect(steps.length).toBe(2 * firstRun);
    io.out = '';
    expect(await main(['generate', '--model', ckpt, '--prompt', 'Q1: who is a knight?\nA:', '--max-new-tokens', '8', '--json', '--backend', 'wasm'])).toBe(0);
    const gens = JSON.parse(io.out) as { tokens: number[]; logprobs: number[]; finishReason: string }[];
    expect(gens).toHaveLength(1);
    expect(gens[0]?.logprobs).toHaveLength(gens[0]?.tokens.length ?? -1);
  });

  it('stops on a non-finite loss with a clear message, keeping no broken checkpoint', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'data.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n'));
    const code = await main(['sft', '--data', join(dir, 'data.jsonl'), '--out', join(dir, 'ckpt'), '--backend', 'wasm', '--max-length', '64', '--lr', '1e30', '--warmup-steps', '0', '--epochs', '3', '--quiet']);
    expect(code).toBe(1);
    expect(io.err).toMatch(/warmup: error: sft: the (loss|gradient norm) became (NaN|Infinity|-Infinity)/);
  });

  it('explains bad data and missing checkpoints', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'bad.jsonl'), '{"question": "x"}\n');
    expect(await main(['sft', '--data', join(dir, 'bad.jsonl'), '--out', join(dir, 'c'), '--quiet'])).toBe(1);
    expect(io.err).toMatch(/needs string 'prompt' and 'completion' columns, a 'messages' chat list, or 'prompt' and 'completion' chat lists \(found: question\)/);
    await writeFile(join(dir, 'data.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n'));
    expect(await main(['sft', '--data', join(dir, 'data.jsonl'), '--out', join(dir, 'c'), '--max-length', '4', '--backend', 'wasm'])).toBe(1);
    expect(io.err).toMatch(/warning: 23 of 23 examples have no completion token within --max-length 4/);
    expect(io.err).toMatch(/sft: no example has a completion token within maxLength 4: the prompts fill it; raise --max-length/);
    // --data repeated mixes the files: both halves count, and a bad one is named.
    await writeFile(join(dir, 'a.jsonl'), rows.slice(0, 12).map((r) => JSON.stringify(r)).join('\n'));
    await writeFile(join(dir, 'b.jsonl'), rows.slice(12).map((r) => JSON.stringify(r)).join('\n'));
    expect(await main(['sft', '--data', join(dir, 'a.jsonl'), '--data', join(dir, 'b.jsonl'), '--out', join(dir, 'c'), '--max-length', '4', '--backend', 'wasm'])).toBe(1);
    expect(io.err).toMatch(/23 training and 1 held-out examples/);
    expect(await main(['sft', '--data', join(dir, 'a.jsonl'), '--data', join(dir, 'bad.jsonl'), '--out', join(dir, 'c'), '--quiet'])).toBe(1);
    expect(io.err).toMatch(/bad\.jsonl/);
    expect(await main(['generate', '--model', join(dir, 'nope'), '--prompt', 'x'])).toBe(1);
    expect(io.err).toMatch(/config\.json: cannot read/);
  });
});

describe('warmup pretrain', () => {
  const texts = Array.from({ length: 40 }, (_, i) => ({ text: `${i % 5} plus 2 is ${(i % 5) + 2}. Ann has ${i % 5} apples.` }));
  const lossesOf = async (path: string): Promise<number[]> => {
    const out: number[] = [];
    for await (const r of readRows(path)) if (r.name === 'loss') out.push(r.value as number);
    return out;
  };

  it('trains on a text column with the loss falling, and a resumed run ends with the uninterrupted run\'s weights', async () => {
    const dir = await tempDir();
    const data = join(dir, 'corpus.jsonl');
    await writeFile(data, texts.map((t) => JSON.stringify(t)).join('\n'));
    // A constant schedule, so the learning rate of a step does not depend on --epochs.
    const args = (out: string) => ['pretrain', '--data', data, '--out', out, '--backend', 'wasm', '--max-length', '64', '--batch-size', '4', '--lr', '3e-3', '--warmup-steps', '0', '--schedule', 'constant', '--eval-fraction', '0', '--quiet'];
    expect(await main([...args(join(dir, 'straight')), '--epochs', '4']), io.err).toBe(0);
    const losses = await lossesOf(join(dir, 'straight-metrics.arrows'));
    expect(losses.length).toBeGreaterThan(8);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(losses.slice(-3))).toBeLessThan(0.6 * mean(losses.slice(0, 3)));
    expect(await main([...args(join(dir, 'split')), '--epochs', '2']), io.err).toBe(0);
    expect(await main([...args(join(dir, 'split')), '--epochs', '4', '--resume']), io.err).toBe(0);
    expect(await lossesOf(join(dir, 'split-metrics.arrows'))).toEqual(losses);
    expect(readFileSync(join(dir, 'split', 'model.safetensors')).equals(readFileSync(join(dir, 'straight', 'model.safetensors')))).toBe(true);
  });

  it('--anchor-decay holds the weights nearer the --model they start from, resumes exactly, and refuses a resume without it', async () => {
    const dir = await tempDir();
    const data = join(dir, 'corpus.jsonl');
    await writeFile(data, texts.map((t) => JSON.stringify(t)).join('\n'));
    const common = ['--data', data, '--backend', 'wasm', '--max-length', '64', '--batch-size', '4', '--lr', '3e-3', '--warmup-steps', '0', '--schedule', 'constant', '--eval-fraction', '0', '--quiet'];
    const start = join(dir, 'start');
    expect(await main(['pretrain', ...common, '--out', start, '--epochs', '1']), io.err).toBe(0);
    const from = (out: string, ...more: string[]) => ['pretrain', ...common, '--model', start, '--out', out, ...more];
    const weights = (d: string): Float32Array => {
      const b = readFileSync(join(d, 'model.safetensors'));
      const n = Number(b.readBigUInt64LE(0));
      return new Float32Array(b.buffer.slice(b.byteOffset + 8 + n, b.byteOffset + b.length));
    };
    const distance = (a: Float32Array, b: Float32Array) => Math.sqrt(a.reduce((s, x, i) => s + (x - (b[i] as number)) ** 2, 0));
    expect(await main(from(join(dir, 'free'), '--epochs', '4')), io.err).toBe(0);
    expect(await main(from(join(dir, 'held'), '--epochs', '4', '--anchor-decay', '100')), io.err).toBe(0);
    const s0 = weights(start);
    expect(distance(weights(join(dir, 'held')), s0)).toBeLessThan(0.7 * distance(weights(join(dir, 'free')), s0));
    // Stopped half way and resumed from its own checkpoint, it still decays toward `start`.
    expect(await main(from(join(dir, 'split'), '--epochs', '2', '--anchor-decay', '100')), io.err).toBe(0);
    expect(await main(['pretrain', ...common, '--out', join(dir, 'split'), '--epochs', '4', '--resume']), io.err).toBe(1);
    expect(io.err).toMatch(/the saved run decayed toward its starting weights.*same --anchor-decay/);
    expect(await main(['pretrain', ...common, '--out', join(dir, 'split'), '--epochs', '4', '--anchor-decay', '100', '--resume']), io.err).toBe(0);
    expect(readFileSync(join(dir, 'split', 'model.safetensors')).equals(readFileSync(join(dir, 'held', 'model.safetensors')))).toBe(true);
  });

  it('makes a new model with an LM head of its own with --untie-embeddings, and refuses the flag on a checkpoint', async () => {
    const dir = await tempDir();
    const data = join(dir, 'corpus.jsonl');
    await writeFile(data, texts.map((t) => JSON.stringify(t)).join('\n'));
    const out = join(dir, 'untied');
    expect(await main(['pretrain', '--data', data, '--out', out, '--untie-embeddings', '--backend', 'wasm', '--max-length', '64', '--batch-size', '4', '--epochs', '1', '--eval-fraction', '0', '--quiet']), io.err).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))).toMatchObject({ tie_word_embeddings: false });
    const header = readFileSync(join(out, 'model.safetensors'));
    const names = Object.keys(JSON.parse(header.subarray(8, 8 + Number(header.readBigUInt64LE(0))).toString('utf8')) as object);
    expect(names).toContain('lm_head.weight');
    expect(await main(['pretrain', '--data', data, '--model', out, '--out', join(dir, 'again'), '--untie-embeddings', '--backend', 'wasm', '--quiet'])).toBe(1);
    expect(io.err).toMatch(/--untie-embeddings shapes a new model; leave out --model and --resume/);
  });

  it('names a corpus row without a text column', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'bad.jsonl'), '{"prompt": "x", "completion": "y"}\n');
    expect(await main(['pretrain', '--data', join(dir, 'bad.jsonl'), '--out', join(dir, 'm'), '--backend', 'wasm', '--quiet'])).not.toBe(0);
    expect(io.err).toMatch(/bad\.jsonl row 1: needs a string 'text' column \(found: prompt, completion\)/);
  });
});
