// `warmup world corpus` and `world replay`: the frame chosen by --frame, and a bad one refused by name.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { captureOutput, ROOT, tempDir } from '../helpers.js';

const io = captureOutput();
const SETS = join(ROOT, 'data/world');
const rows = (path: string): { text?: string; prompt?: string; completion?: string; kind: string }[] =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { kind: string });

describe('warmup world corpus / replay --frame', () => {
  it('writes the v4 frame by default and the v3 frame on request', async () => {
    const dir = await tempDir();
    expect(await main(['world', 'corpus', '--sets', SETS, '--scale', '0.002', '--out', join(dir, 'v4.jsonl'), '--json']), io.err).toBe(0);
    expect(await main(['world', 'corpus', '--frame', '3', '--sets', SETS, '--scale', '0.002', '--out', join(dir, 'v3.jsonl'), '--json']), io.err).toBe(0);
    const mc = (file: string) => rows(join(dir, file)).filter((r) => r.kind === 'mc');
    expect(mc('v4.jsonl').every((r) => /Answer with the option in \\boxed\{\}\.\nAssistant: \\boxed\{ \w+\}$/.test(r.text ?? ''))).toBe(true);
    expect(mc('v3.jsonl').every((r) => /Answer with the letter in \\boxed\{\}\.\nAssistant: \\boxed\{[A-D]\}$/.test(r.text ?? ''))).toBe(true);
    expect(await main(['world', 'replay', '--sets', SETS, '--rows', '30', '--out', join(dir, 'replay.jsonl'), '--json']), io.err).toBe(0);
    expect(rows(join(dir, 'replay.jsonl')).filter((r) => r.kind === 'mc').every((r) => /^ \\boxed\{ \w+\}$/.test(r.completion ?? ''))).toBe(true);
  });

  it('refuses a frame it does not have, by name', async () => {
    const dir = await tempDir();
    expect(await main(['world', 'corpus', '--frame', '5', '--sets', SETS, '--out', join(dir, 'x.jsonl')])).not.toBe(0);
    expect(io.err).toMatch(/--frame must be 3 or 4, got "5"/);
  });
});
