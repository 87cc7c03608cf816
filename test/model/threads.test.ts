import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';

const run = (threads: number) => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'test/fixtures/threaded-matmul.ts')], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, WARMUP_WASM_THREADS: String(threads), WARMUP_MATMUL: 'xnnpack' }, // XNNPACK runs the product
  });
  if (r.status !== 0) throw new Error(`exit ${r.status} ${r.signal ?? ''}: ${r.stderr.slice(-500)}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() as string) as { line: string; threads: number; values: number[]; ortValues: number[] | null };
};

describe('wasm threads', () => {
  it('runs XNNPACK on two threads with the same results as one, and the process exits by itself', () => {
    const one = run(1);
    const two = run(2);
    expect(one.threads).toBe(1);
    expect(two.threads).toBe(2);
    expect(two.line).toMatch(/backend: wasm, 2 threads/);
    const err = Math.max(...two.values.map((v, i) => Math.abs(v - (one.values[i] as number))));
    expect(err).toBeLessThan(1e-4);
    // ONNX Runtime products on a shared heap fall back instead of failing.
    for (const r of [one, two]) {
      if (r.ortValues === null) continue;
      expect(Math.max(...r.ortValues.map((v, i) => Math.abs(v - (one.values[i] as number))))).toBeLessThan(1e-3);
    }
  });
});
