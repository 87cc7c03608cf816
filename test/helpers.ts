/** Shared test helpers: temp folders and the optional ../shared datasets. */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, expect, vi } from 'vitest';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const SHARED = resolve(ROOT, '..', 'shared');

/** The path of a file under ../shared/datasets, or null (with a printed reason) when absent. */
export function sharedDataset(relative: string): string | null {
  const path = join(SHARED, 'datasets', relative);
  if (existsSync(path)) return path;
  console.warn(`skipping: ${path} is absent (../shared is only on developer and CI machines)`);
  return null;
}

/** A fresh temporary folder, removed after the test. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'warmup-test-'));
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}

/**
 * Captures what the CLI writes to stdout and stderr during each test (restored after).
 * Read `output.out` / `output.err`; both reset before every test.
 */
export function captureOutput(): { out: string; err: string } {
  const output = { out: '', err: '' };
  beforeEach(() => {
    output.out = '';
    output.err = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((output.out += String(s)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((output.err += String(s)), true));
  });
  afterEach(() => vi.restoreAllMocks());
  return output;
}

/** Every row of a dataset file, as plain objects. */
export async function readAll(path: string): Promise<Record<string, unknown>[]> {
  const { readRows } = await import('../src/data/dataset.js');
  const out: Record<string, unknown>[] = [];
  for await (const r of readRows(path)) out.push(r);
  return out;
}

/** The largest elementwise |a − b| of two arrays of the same length (checked). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}
