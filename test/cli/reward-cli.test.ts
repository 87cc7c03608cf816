import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { ROOT, captureOutput, tempDir } from '../helpers.js';

const io = captureOutput();

const problem = { task_id: 'T/0', prompt: 'def square(x):\n', test: 'def check(candidate):\n    assert candidate(3) == 9\n', entry_point: 'square' };

describe('warmup eval-code', () => {
  it('checks samples against problems and reports pass@k', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'problems.jsonl'), `${JSON.stringify(problem)}\n`);
    const samples = ['    return x * x\n', '    return x + x\n', '    while True: pass\n'].map((completion) => JSON.stringify({ task_id: 'T/0', completion }));
    await writeFile(join(dir, 'samples.jsonl'), `${samples.join('\n')}\n`);
    const code = await main(['eval-code', join(dir, 'samples.jsonl'), '--problems', join(dir, 'problems.jsonl'), '--k', '1,2', '--timeout', '500', '--workers', '1', '--json']);
    expect(code, io.err).toBe(0);
    const summary = JSON.parse(io.out) as Record<string, unknown>;
    expect(summary).toMatchObject({ samples: 3, problems: 1, statuses: { ok: 1, wrong: 1, timeout: 1 } });
    expect(summary['pass@1']).toBeCloseTo(1 / 3, 6);
    expect(summary['pass@2']).toBeCloseTo(2 / 3, 6);
    const results = (await readFile(join(dir, 'samples_results.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { passed: boolean; result: string });
    expect(results.map((r) => r.result)).toEqual(['ok', 'wrong', 'timeout']);
  });

  it('names a sample whose problem is unknown', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'samples.jsonl'), `${JSON.stringify({ task_id: 'X/1', completion: 'pass' })}\n`);
    expect(await main(['eval-code', join(dir, 'samples.jsonl')])).toBe(1);
    expect(io.err).toMatch(/row 1: task_id "X\/1" has no problem: pass --problems/);
  });
});

describe('warmup verify', () => {
  it('composes a built-in and a custom reward with weights and options', async () => {
    const dir = await tempDir();
    const rows = [
      { prompt: 'Q', completion: '<think>x</think><answer>(1) Ann is a knight (2) Bo is a knave</answer>', names: ['Ann', 'Bo'], solution: [true, false] },
      { prompt: 'Q', completion: 'no tags', names: ['Ann', 'Bo'], solution: [true, false] },
    ];
    await writeFile(join(dir, 'in.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n'));
    const code = await main([
      'verify', join(dir, 'in.jsonl'), '--out', join(dir, 'out.jsonl'),
      '--reward', 'kk', '--reward', join(ROOT, 'test/fixtures/rewards/length.mjs'),
      '--weights', '1,0.5', '--option', 'kk={"scheme":"logic-rl"}', '--option', `${join(ROOT, 'test/fixtures/rewards/length.mjs')}={"max":1000}`, '--workers', '1', '--json',
    ]);
    expect(code, io.err).toBe(0);
    const scored = (await readFile(join(dir, 'out.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { reward: number; reward_parts: Record<string, number> });
    expect(scored[0]?.reward_parts).toMatchObject({ kk: 3, 'kk.format': 1, 'kk.answer': 2 });
    expect(scored[0]?.reward).toBeCloseTo(3 + 0.5 * (1 - rows[0]!.completion.length / 1000), 9);
    expect(scored[1]?.reward_parts.kk).toBe(-3);
    expect(JSON.parse(io.out)).toMatchObject({ samples: 2, scored: 2 });
  });

  it('refuses bad reward lists before doing any work', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'in.jsonl'), '{"prompt":"","completion":""}\n');
    expect(await main(['verify', join(dir, 'in.jsonl'), '--out', join(dir, 'o.jsonl'), '--reward', 'kk', '--weights', '1,2'])).toBe(1);
    expect(io.err).toMatch(/2 weights given for 1 rewards/);
    expect(await main(['verify', join(dir, 'in.jsonl'), '--out', join(dir, 'o.jsonl'), '--reward', 'bogus'])).toBe(1);
    expect(io.err).toMatch(/unknown reward 'bogus'/);
  });
});
