import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { readRows } from '../../src/data/dataset.js';
import { captureOutput, ROOT, tempDir } from '../helpers.js';

const io = captureOutput();

async function rows(path: string): Promise<Record<string, unknown>[]> {
  const all = [];
  for await (const r of readRows(path)) all.push(r);
  return all;
}

describe('warmup kk generate', () => {
  it('writes the same puzzles in every format, with progress on stderr', async () => {
    const dir = await tempDir();
    for (const ext of ['arrow', 'arrows', 'jsonl', 'parquet']) {
      const file = join(dir, `p.${ext}`);
      expect(await main(['kk', 'generate', '--people', '3-5', '--count', '30', '--seed', '9', '--out', file])).toBe(0);
    }
    expect(io.err).toMatch(/generating .*30\/30/);
    expect(io.err).toMatch(/30 puzzles \(N=3: 10, N=4: 10, N=5: 10\)/);
    const [a, b, c, d] = await Promise.all(['arrow', 'arrows', 'jsonl', 'parquet'].map((e) => rows(join(dir, `p.${e}`))));
    expect(a).toHaveLength(30);
    expect(b).toEqual(a);
    expect(c).toEqual(a);
    expect(d).toEqual(a);
  });

  it('--exclude keeps the puzzles of other files out, by id and by their claims under other names, and names a file it cannot use', async () => {
    const dir = await tempDir();
    const held = join(dir, 'held.jsonl');
    expect(await main(['kk', 'generate', '--people', '3', '--count', '20', '--seed', '9', '--out', held, '--quiet'])).toBe(0);
    const out = join(dir, 'train.jsonl');
    expect(await main(['kk', 'generate', '--people', '3', '--count', '40', '--seed', '9', '--exclude', held, '--out', out, '--quiet'])).toBe(0);
    const heldIds = new Set((await rows(held)).map((r) => r.id));
    const train = await rows(out);
    expect(train).toHaveLength(40);
    expect(train.filter((r) => heldIds.has(r.id))).toEqual([]);
    // Two people: the same claims under other names are kept out too (the space is small enough to meet them).
    const held2 = join(dir, 'held2.jsonl');
    expect(await main(['kk', 'generate', '--people', '2', '--count', '100', '--seed', '1', '--out', held2, '--quiet'])).toBe(0);
    const out2 = join(dir, 'train2.jsonl');
    expect(await main(['kk', 'generate', '--people', '2', '--count', '100', '--seed', '2', '--exclude', held2, '--out', out2, '--quiet'])).toBe(0);
    const claims = new Set((await rows(held2)).map((r) => r.statements));
    expect((await rows(out2)).filter((r) => claims.has(r.statements))).toEqual([]);
    const noIds = join(dir, 'no-ids.jsonl');
    await writeFile(noIds, '{"quiz":"x"}\n');
    expect(await main(['kk', 'generate', '--count', '3', '--exclude', noIds, '--out', join(dir, 'y.jsonl')])).toBe(1);
    expect(io.err).toMatch(/--exclude .*no-ids\.jsonl row 1: no string 'id' column \(found: quiz\)/);
    expect(await main(['kk', 'generate', '--count', '3', '--exclude', join(dir, 'absent.jsonl'), '--out', join(dir, 'y.jsonl')])).toBe(1);
    expect(io.err).toMatch(/absent\.jsonl/);
  });

  it('--people N:COUNT gives each size its own count (all 2-person puzzles beside more 3-person ones)', async () => {
    const dir = await tempDir();
    const out = join(dir, 'mix.jsonl');
    expect(await main(['kk', 'generate', '--people', '2:399,3:25', '--seed', '4', '--out', out])).toBe(0);
    expect(io.err).toMatch(/424 puzzles \(N=2: 399, N=3: 25\)/);
    const sizes = (await rows(out)).map((r) => r.n_people);
    expect([sizes.filter((n) => n === 2).length, sizes.filter((n) => n === 3).length]).toEqual([399, 25]);
    expect(await main(['kk', 'generate', '--people', '2:10,3:20', '--count', '5', '--out', join(dir, 'x.jsonl')])).toBe(1);
    expect(io.err).toMatch(/--count 5 does not match the counts in --people \(30\)/);
    expect(await main(['kk', 'generate', '--people', '2:4,3:x', '--out', join(dir, 'x.jsonl')])).toBe(1);
    expect(io.err).toMatch(/N:COUNT,M:COUNT/);
  });

  it('creates the folder of --out, in every format', async () => {
    const dir = await tempDir();
    for (const ext of ['arrow', 'arrows', 'jsonl', 'parquet']) {
      const file = join(dir, `new-${ext}`, 'deeper', `p.${ext}`);
      expect(await main(['kk', 'generate', '--people', '3', '--count', '5', '--out', file, '--quiet']), io.err).toBe(0);
      expect(await rows(file)).toHaveLength(5);
    }
  });

  it('fails clearly on bad options and impossible requests', async () => {
    const dir = await tempDir();
    expect(await main(['kk', 'generate', '--people', '2', '--count', '500', '--out', join(dir, 'x.arrow')])).toBe(1);
    expect(io.err).toMatch(/warmup: error: only 399 distinct puzzles with exactly one solution exist for N=2/);
    expect(await main(['kk', 'generate', '--people', '7-3', '--out', join(dir, 'x.arrow')])).toBe(1);
    expect(io.err).toMatch(/--people range 7-3 is empty/);
    expect(await main(['kk', 'generate', '--count', 'lots', '--out', join(dir, 'x.arrow')])).toBe(1);
    expect(io.err).toMatch(/--count must be an integer/);
    expect(await main(['kk', 'generate', '--out', join(dir, 'x.csv')])).toBe(1);
    expect(io.err).toMatch(/unknown file type/);
    expect(await main(['kk', 'generate', '--roles', 'wizard', '--out', join(dir, 'x.arrow')])).toBe(1);
    expect(io.err).toMatch(/bad role pair "wizard"/);
  });

  it('takes names, roles and templates', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'frames.txt'), '# one per line\n{name} whispers, "{statement}."\n"{statement}," {name} shouts.\n');
    const file = join(dir, 'p.jsonl');
    const code = await main(['kk', 'generate', '--people', '3', '--count', '5', '--names', 'Ana,Bo,Cy,Di', '--roles', 'saint/sinner', '--templates', `@${join(dir, 'frames.txt')}`, '--out', file]);
    expect(code).toBe(0);
    const text = await readFile(file, 'utf8');
    expect(text).toMatch(/saints and sinners/);
    expect(text).toMatch(/whispers|shouts/);
    expect(await main(['kk', 'solve', file, '--json'])).toBe(0);
  });
});

describe('warmup kk solve', () => {
  it('re-checks a generated file and prints the JSON summary', async () => {
    const file = join(await tempDir(), 'p.arrows');
    await main(['kk', 'generate', '--count', '50', '--out', file, '--quiet']);
    io.out = '';
    expect(await main(['kk', 'solve', file, '--json'])).toBe(0);
    expect(JSON.parse(io.out)).toEqual({ file, records: 50, parsed: 50, unique: 50, agree: 50, failures: [] });
  });

  it('exits 1 and lists the first failures with reasons', async () => {
    const dir = await tempDir();
    const file = join(dir, 'p.jsonl');
    await main(['kk', 'generate', '--people', '3', '--count', '4', '--out', file, '--quiet']);
    const lines = (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    (lines[1] as { solution: boolean[] }).solution = (lines[1] as { solution: boolean[] }).solution.map((v) => !v);
    (lines[2] as { quiz: string }).quiz = (lines[2] as { quiz: string }).quiz.replace(/You meet 3 inhabitants/, 'You meet some people');
    await writeFile(file, lines.map((l) => JSON.stringify(l)).join('\n'));
    io.out = '';
    expect(await main(['kk', 'solve', file, '--json'])).toBe(1);
    const summary = JSON.parse(io.out) as { records: number; parsed: number; agree: number; failures: { row: number; reason: string }[] };
    expect(summary).toMatchObject({ records: 4, parsed: 3, agree: 2 });
    expect(summary.failures.map((f) => f.row)).toEqual([1, 2]);
    expect(summary.failures[0]?.reason).toMatch(/solver finds .* but the record says/);
    expect(summary.failures[1]?.reason).toMatch(/does not list the islanders/);
  });

  it('reports a truncated file after checking its complete rows', async () => {
    const dir = await tempDir();
    const file = join(dir, 'p.arrows');
    await main(['kk', 'generate', '--count', '3000', '--out', file, '--quiet']); // three batches of 1,024
    const bytes = await readFile(file);
    await writeFile(file, bytes.subarray(0, bytes.length - 500));
    io.out = '';
    expect(await main(['kk', 'solve', file, '--json'])).toBe(1);
    const summary = JSON.parse(io.out) as { records: number; agree: number; error: string };
    expect(summary.records).toBeGreaterThan(0);
    expect(summary.agree).toBe(summary.records);
    expect(summary.error).toMatch(/is truncated/);
    expect(io.err).toMatch(/warmup: error: .*is truncated/);
  });
});

describe('warmup data', () => {
  it('shows a dataset as text and as JSON', async () => {
    const file = join(await tempDir(), 'p.arrow');
    await main(['kk', 'generate', '--count', '10', '--seed', '3', '--out', file, '--quiet']);
    io.out = '';
    expect(await main(['data', 'show', file, '--head', '1'])).toBe(0);
    expect(io.out).toMatch(/Arrow IPC file/);
    expect(io.out).toMatch(/artifact: puzzles v1/);
    expect(io.out).toMatch(/rows: +10/);
    expect(io.out).toMatch(/solution: List<Bool>/);
    expect(io.out).toMatch(/--- row 0 ---/);
    io.out = '';
    expect(await main(['data', 'show', file, '--json', '--head', '2'])).toBe(0);
    const j = JSON.parse(io.out) as { rows: number; head: unknown[]; artifact: string; config: { seed: number } };
    expect(j).toMatchObject({ rows: 10, artifact: 'puzzles', config: { seed: 3 } });
    expect(j.head).toHaveLength(2);
  });

  it('converts between formats and imports K&K JSONL', async () => {
    const dir = await tempDir();
    const kk = join(dir, 'kk.jsonl');
    // The Hugging Face K&K layout: statements as a Python tuple literal.
    await writeFile(
      kk,
      `${JSON.stringify({
        quiz: 'A very special island is inhabited only by knights and knaves. Knights always tell the truth, and knaves always lie. You meet 2 inhabitants: Zoey and Oliver. Zoey remarked, "Oliver is not a knight". Oliver stated, "Oliver is a knight if and only if Zoey is a knight". So who is a knight and who is a knave?',
        names: ['Zoey', 'Oliver'],
        knight_knave: { knight: 'knight', knave: 'knave', a_knight: 'a knight', a_knave: 'a knave', Knight: 'Knight', Knave: 'Knave' },
        solution: [true, false],
        solution_text: 'Zoey is a knight, and Oliver is a knave.',
        solution_text_format: '(1) Zoey is a knight\n(2) Oliver is a knave',
        statements: "(('not', ('telling-truth', 1)), ('<=>', ('telling-truth', 1), ('telling-truth', 0)))",
        index: 0,
      })}\n`,
    );
    expect(await main(['data', 'convert', kk, join(dir, 'kk.parquet'), '--quiet']), io.err).toBe(0);
    expect(await main(['data', 'convert', join(dir, 'kk.parquet'), join(dir, 'kk.arrows'), '--quiet'])).toBe(0);
    const [row] = await rows(join(dir, 'kk.arrows'));
    expect(row).toMatchObject({ n_people: 2, names: ['Zoey', 'Oliver'], solution: [true, false], roles: ['knight', 'knave'] });
    expect(JSON.parse(String(row?.statements))).toEqual([['not', ['telling-truth', 1]], ['<=>', ['telling-truth', 1], ['telling-truth', 0]]]);
    io.out = '';
    expect(await main(['kk', 'solve', join(dir, 'kk.arrows'), '--json'])).toBe(0);
  });

  it('refuses a file it cannot identify', async () => {
    const file = join(await tempDir(), 'other.jsonl');
    await writeFile(file, '{"question": "2+2?", "answer": 4}\n');
    expect(await main(['data', 'convert', file, `${file}.arrow`])).toBe(1);
    expect(io.err).toMatch(/cannot tell which dataset .* holds \(columns: question, answer\)/);
  });
});

describe('--help', () => {
  it('documents every command', async () => {
    const commands = [['kk'], ['kk', 'generate'], ['kk', 'solve'], ['data', 'show'], ['data', 'convert'], ['demo'], ['eval-code'], ['verify'], ['sft'], ['generate'], ['tokenizer', 'train'], ['traces'], ['serve']];
    for (const args of [['--help'], ...commands.map((c) => [...c, '--help'])]) {
      io.out = '';
      expect(await main(args)).toBe(0);
      expect(io.out).toMatch(/Usage: warmup/);
    }
  });

  it('--version prints the package version and exits 0', async () => {
    io.out = '';
    expect(await main(['--version'])).toBe(0);
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(io.out.trim()).toBe(version);
  });

  it('rejects an unknown command with exit code 1', async () => {
    expect(await main(['frobnicate'])).toBe(1);
    expect(io.err).toMatch(/unknown command 'frobnicate'/);
  });
});
