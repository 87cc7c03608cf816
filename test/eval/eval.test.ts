import type { AddressInfo } from 'node:net';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { summaryTable } from '../../src/cli/eval.js';
import { detectBench, loadEvalSet } from '../../src/eval/benchmarks.js';
import { accuracyOf, evaluateModel, localModel, summarise, type EvalModel, type EvalSample } from '../../src/eval/run.js';
import { selectBackend } from '../../src/model/backend.js';
import { saveCheckpoint } from '../../src/model/checkpoint.js';
import { loadDefaultTokenizer } from '../../src/model/default-tokenizer.js';
import { presetConfig, Transformer } from '../../src/model/transformer.js';
import { createOpenAIServer } from '../../src/serve/server.js';
import { captureOutput, ROOT, sharedDataset, tempDir } from '../helpers.js';

const io = captureOutput();

describe('accuracy across samples', () => {
  it('reports the mean and std of per-sample accuracy, and unbiased pass@k', () => {
    // 3 questions × 2 samples: sample 0 gets 2/3, sample 1 gets 1/3.
    const a = accuracyOf([[true, true], [true, false], [false, false]], 2);
    expect(a.perSample).toEqual([2 / 3, 1 / 3]);
    expect(a.mean).toBeCloseTo(0.5, 12);
    expect(a.std).toBeCloseTo(Math.sqrt(((1 / 6) ** 2 * 2) / 1), 12);
    expect(a.passAtK['pass@1']).toBeCloseTo(0.5, 12);
    expect(a.passAtK['pass@2']).toBeCloseTo(2 / 3, 12);
    expect(accuracyOf([[true]], 1)).toMatchObject({ mean: 1, std: 0, ci95: [1, 1] });
  });

  it('gives a 95% interval over questions around the mean, and a format score beside accuracy', () => {
    const rows = Array.from({ length: 200 }, (_, i) => [i % 4 === 0]); // 25%
    const a = accuracyOf(rows, 1);
    expect(a.ci95[0]).toBeLessThan(0.25);
    expect(a.ci95[1]).toBeGreaterThan(0.25);
    expect(a.ci95[1] - a.ci95[0]).toBeCloseTo(2 * 1.96 * Math.sqrt(0.25 * 0.75 / 200), 1);
    const items = [{ id: 'a', prompt: '', row: {}, subsets: {} }, { id: 'b', prompt: '', row: {}, subsets: {} }];
    const s = (id: string, status: string): EvalSample => ({ id, sample: 0, completion: '', tokens: 1, score: null, status, correct: status === 'ok', subsets: {} });
    // One right, one parsed but wrong: format counts both.
    expect(summarise({ bench: 'kk', source: 'x', items }, 'm', { n: 1, temperature: 0 }, [s('a', 'ok'), s('b', 'wrong')]).format).toBe(1);
    const half = summarise({ bench: 'kk', source: 'x', items }, 'm', { n: 1, temperature: 0 }, [s('a', 'ok'), s('b', 'format_error')]);
    expect(half.format).toBe(0.5);
    // The CLI's table prints both.
    expect(summaryTable(half)).toMatch(/answers that parse: 50\.0%/);
    expect(summaryTable(half)).toMatch(/^all\s+2\s+50\.0 \[\s*0\.0, 100\.0\]/m);
  });

  it("asks the model for its own batch of questions at a time (a local model's generation batch)", async () => {
    const items = Array.from({ length: 70 }, (_, i) => ({ id: `q${i}`, prompt: `${i}`, row: {}, subsets: {} }));
    const set = { bench: 'kk', source: 'x', items, rewards: [], stop: [] };
    const calls: number[] = [];
    const fake = (batchPrompts?: number): EvalModel => ({
      name: 'm',
      ...(batchPrompts ? { batchPrompts } : {}),
      complete: (prompts) => {
        calls.push(prompts.length);
        return Promise.resolve(prompts.map(() => [{ text: '', tokens: 0 }]));
      },
    });
    const score = () => Promise.resolve({ score: 0, status: 'wrong' as const });
    const options = { n: 1, temperature: 0, topP: 1, maxNewTokens: 4, seed: 0, stop: [] };
    await evaluateModel(set, fake(32), score as never, options);
    expect(calls).toEqual([32, 32, 6]);
    calls.length = 0;
    await evaluateModel(set, fake(), score as never, options);
    expect(calls).toEqual([8, 8, 8, 8, 8, 8, 8, 8, 6]);
    await selectBackend('wasm');
    const tokenizer = await loadDefaultTokenizer();
    const model = Transformer.init(presetConfig('tiny', tokenizer.vocabSize, { hiddenSize: 32, intermediateSize: 48, numLayers: 1, numHeads: 2, numKvHeads: 1 }), 1);
    expect(localModel(model, tokenizer, 'local', 32).batchPrompts).toBe(32);
    model.dispose();
  });

  it('breaks results down by subset', () => {
    const items = [
      { id: 'a', prompt: '', row: {}, subsets: { n_people: '3' } },
      { id: 'b', prompt: '', row: {}, subsets: { n_people: '4' } },
    ];
    const s = (id: string, sample: number, correct: boolean): EvalSample => ({ id, sample, completion: '', tokens: 3, score: correct ? 1 : 0, status: correct ? 'ok' : 'wrong', correct, subsets: {} });
    const sum = summarise({ bench: 'kk', source: 'x', items }, 'm', { n: 2, temperature: 0.7 }, [s('a', 0, true), s('a', 1, true), s('b', 1, true), s('b', 0, false)]);
    expect(sum.overall.mean).toBeCloseTo(0.75, 12);
    expect(sum.bySubset['n_people=3']?.mean).toBe(1);
    expect(sum.bySubset['n_people=4']?.perSample).toEqual([0, 1]);
    expect(sum.statuses).toEqual({ ok: 3, wrong: 1 });
  });
});

describe('benchmark loaders', () => {
  it('read each standard layout into prompts, rewards and subsets', async () => {
    const dir = await tempDir();
    const files: Record<string, object> = {
      'kk.jsonl': { id: 'k1', quiz: 'A very special island… Who is a knight?', names: ['Ann', 'Bo'], solution: [true, false] },
      'math.jsonl': { unique_id: 'm1', problem: 'What is $1+1$?', answer: '2', subject: 'Prealgebra', level: 1 },
      'he.jsonl': { task_id: 'HumanEval/0', prompt: 'def f():\n', test: 'def check(c): pass', entry_point: 'f' },
      'mmlu.jsonl': { question_id: 7, question: 'Pick one', options: ['x', 'y'], answer: 'B', category: 'law' },
    };
    for (const [f, row] of Object.entries(files)) await writeFile(join(dir, f), `${JSON.stringify(row)}\n`);
    const kk = await loadEvalSet(join(dir, 'kk.jsonl'));
    expect(kk).toMatchObject({ bench: 'kk', rewards: [{ ref: 'kk' }] });
    expect(kk.items[0]).toMatchObject({ id: 'k1', subsets: { n_people: '2' } });
    expect(kk.items[0]?.prompt).toMatch(/^A conversation between User and Assistant[\s\S]*Who is a knight\?[\s\S]*<think>$/);
    const math = await loadEvalSet(join(dir, 'math.jsonl'));
    expect(math).toMatchObject({ bench: 'math500', rewards: [{ ref: 'math' }] });
    expect(math.items[0]).toMatchObject({ id: 'm1', subsets: { subject: 'Prealgebra', level: '1' } });
    expect(math.items[0]?.prompt).toMatch(/\\boxed\{\}/);
    const he = await loadEvalSet(join(dir, 'he.jsonl'));
    expect(he).toMatchObject({ bench: 'humaneval', rewards: [{ ref: 'code' }] });
    expect(he.items[0]?.prompt).toBe('def f():\n');
    const mmlu = await loadEvalSet(join(dir, 'mmlu.jsonl'));
    expect(mmlu).toMatchObject({ bench: 'mmlu-pro', rewards: [{ ref: 'mc' }] });
    expect(mmlu.items[0]).toMatchObject({ id: '7', subsets: { category: 'law' } });
    expect(mmlu.items[0]?.prompt).toMatch(/Pick one\nA\. x\nB\. y/);
    expect(detectBench({ text: 'x' })).toBeNull();
    await writeFile(join(dir, 'odd.jsonl'), '{"text": "x"}\n');
    await expect(loadEvalSet(join(dir, 'odd.jsonl'))).rejects.toThrow(/cannot tell the benchmark from its columns \(text\); pass --bench/);
    await expect(loadEvalSet(join(dir, 'odd.jsonl'), 'math500')).rejects.toThrow(/row 1: a MATH row needs 'problem' \(found: text\)/);
  });

  it('reads the committed MATH-500 and Logic-RL K&K rows with their subsets', async () => {
    const fixture = (name: string): string => join(ROOT, 'test', 'fixtures', 'tasks', name);
    const m = await loadEvalSet(fixture('math500.jsonl'), 'math500');
    expect(m.items.map((i) => i.subsets)).toEqual([
      { subject: 'Precalculus', level: '2' },
      { subject: 'Intermediate Algebra', level: '5' },
      { subject: 'Algebra', level: '3' },
    ]);
    const k = await loadEvalSet(fixture('logic-rl-kk.parquet'));
    expect(k.bench).toBe('kk');
    expect(k.items.map((i) => i.subsets.n_people)).toEqual(['3', '3', '3']);
  });

  const math500 = sharedDataset('math500/test.jsonl');
  const logicRl = sharedDataset('logic-rl-kk/5ppl/test.parquet');
  it.skipIf(!math500 || !logicRl)('reads MATH-500 and Logic-RL K&K as published', async () => {
    const m = await loadEvalSet(math500 as string, 'math500');
    expect(m.items).toHaveLength(500);
    expect(new Set(m.items.map((i) => i.subsets.subject)).size).toBe(7);
    expect(new Set(m.items.map((i) => i.subsets.level))).toEqual(new Set(['1', '2', '3', '4', '5']));
    const k = await loadEvalSet(logicRl as string);
    expect(k.bench).toBe('kk');
    expect(k.items.every((i) => i.subsets.n_people === '5')).toBe(true);
  });
});

describe('warmup eval', () => {
  it('evaluates a checkpoint and the same model behind an OpenAI-compatible server', async () => {
    await selectBackend('wasm');
    const dir = await tempDir();
    const tokenizer = await loadDefaultTokenizer();
    const model = Transformer.init(presetConfig('tiny', tokenizer.vocabSize, { numLayers: 1, hiddenSize: 64, intermediateSize: 128 }), 1);
    await saveCheckpoint(join(dir, 'ckpt'), model, tokenizer);
    io.out = '';
    expect(await main(['eval', '--model', join(dir, 'ckpt'), '--bench', 'kk', '--n', '2', '--limit', '3', '--max-new-tokens', '8', '--out', join(dir, 'out'), '--workers', '1', '--json']), io.err).toBe(0);
    const local = JSON.parse(io.out) as { bench: string; n: number; overall: { items: number; perSample: number[] }; statuses: Record<string, number> };
    expect(local).toMatchObject({ bench: 'kk', n: 2, overall: { items: 3 } });
    expect(Object.values(local.statuses).reduce((a, b) => a + b, 0)).toBe(6);
    // --option configures the set's own reward (as rlvr's does); a bad one fails before any sampling.
    const scores = async (out: string): Promise<number[]> => (await readFile(join(out, 'samples.jsonl'), 'utf8')).split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { score: number }).score);
    expect(await main(['eval', '--model', join(dir, 'ckpt'), '--bench', 'kk', '--n', '2', '--limit', '3', '--max-new-tokens', '8', '--out', join(dir, 'lrl'), '--workers', '1', '--quiet', '--option', 'kk={"scheme":"logic-rl"}']), io.err).toBe(0);
    // An 8-token completion never has the format: the paper's scheme scores it −2, Logic-RL's −3.
    expect(new Set(await scores(join(dir, 'out')))).toEqual(new Set([-2]));
    expect(new Set(await scores(join(dir, 'lrl')))).toEqual(new Set([-3]));
    expect(await main(['eval', '--model', join(dir, 'ckpt'), '--bench', 'kk', '--limit', '3', '--option', 'kk={"scheme":"strict"}'])).toBe(1);
    expect(io.err).toMatch(/reward 'kk': option 'scheme' must be one of paper, logic-rl, got "strict"/);
    expect(io.err).not.toMatch(/backend:/);
    const server = createOpenAIServer({ model, tokenizer, name: 'student' });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
      io.out = '';
      expect(await main(['eval', '--base-url', url, '--served-model', 'student', '--bench', 'kk', '--n', '2', '--limit', '3', '--max-new-tokens', '8', '--workers', '1'])).toBe(0);
      expect(io.out).toMatch(/kk \(.*kk\.jsonl\), student@http/);
      expect(io.out).toMatch(/all\s+3\s+\d+\.\d \[\s*\d+\.\d,\s+\d+\.\d\]\s+±/);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
      model.dispose();
    }
    expect(await main(['eval', '--bench', 'math500'])).toBe(1);
    expect(io.err).toMatch(/--bench math500: give the file with --data/);
    expect(await main(['eval', '--bench', 'kk'])).toBe(1);
    expect(io.err).toMatch(/give either --model CKPT or --base-url URL/);
  });

  it('sends chat-list prompts (verl rows) to a server as messages, which the server renders with its own template', async () => {
    await selectBackend('wasm');
    const tokenizer = await loadDefaultTokenizer();
    const model = Transformer.init(presetConfig('tiny', tokenizer.vocabSize, { numLayers: 1, hiddenSize: 64, intermediateSize: 128 }), 1);
    const server = createOpenAIServer({ model, tokenizer, name: 'student' });
    const paths: string[] = [];
    server.on('request', (req: { url?: string }) => paths.push(req.url ?? ''));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
      const verl = join(ROOT, 'test', 'fixtures', 'tasks', 'verl-mixed.parquet');
      expect(await main(['eval', '--base-url', url, '--served-model', 'student', '--bench', verl, '--n', '1', '--limit', '2', '--max-new-tokens', '4', '--workers', '1', '--quiet']), io.err).toBe(0);
      expect(paths).toEqual(['/v1/chat/completions', '/v1/chat/completions']);
      // Plain-text rows still go to /v1/completions verbatim (the R1 template needs the prompt as written).
      paths.length = 0;
      expect(await main(['eval', '--base-url', url, '--served-model', 'student', '--bench', 'kk', '--n', '1', '--limit', '1', '--max-new-tokens', '4', '--workers', '1', '--quiet']), io.err).toBe(0);
      expect(paths).toEqual(['/v1/completions']);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
      model.dispose();
    }
  }, 60_000);
});
