import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { readRows } from '../../src/data/dataset.js';
import { tempDir } from '../helpers.js';

let out = '';
beforeEach(() => {
  out = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
});
afterEach(() => vi.restoreAllMocks());

describe('warmup demo', () => {
  it('streams puzzles to an Arrow log, re-checks them all, and says where they are', async () => {
    const dir = await tempDir();
    expect(await main(['demo', '--out', dir, '--count', '300'])).toBe(0);
    const path = join(dir, 'puzzles.arrows');
    expect(out).toContain(`Generated 300 puzzles (N = 3, 4, 5, 6, 7)`);
    expect(out).toContain('300/300 agree');
    expect(out).toContain(`npx warmup data show ${path}`);
    let n = 0;
    for await (const _ of readRows(path)) n++;
    expect(n).toBe(300);
  });
});
