import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Field, Schema, Utf8, Int32, List } from 'apache-arrow';
import { DataFormatError, formatOf, readInfo, readRows, writeRows } from '../../src/data/dataset.js';
import { puzzleFromRecord, PuzzleRecordError, puzzleToRecord, readPuzzles } from '../../src/kk/records.js';
import { SchemaMismatchError } from '../../src/data/records.js';
import {
  METRICS,
  PUZZLES,
  ROLLOUTS,
  TRACES,
  withRunMetadata,
  type Artifact,
  type MetricRecord,
  type RolloutRecord,
  type TraceRecord,
} from '../../src/data/schemas.js';
import { generatePuzzles } from '../../src/kk/generator.js';
import { tempDir } from '../helpers.js';

const puzzles = [...generatePuzzles({ people: [2, 4, 7], count: 30, seed: 1 })];
const traces: TraceRecord[] = [
  { puzzle_id: 'kk3-1', teacher: 'symbolic', template: 'r1@1', sample_idx: 0, prompt: 'p', completion: '<think>ü 😀</think><answer>x</answer>', answer: 'x', correct: true, reward: 2, n_tokens: 12, latency_ms: 0.5, finish_reason: 'stop', status: 'ok' },
  { puzzle_id: 'kk3-1', teacher: 'openai:qwq', template: 'r1@1', sample_idx: 1, prompt: 'p', completion: '', answer: null, correct: null, reward: null, n_tokens: 0, latency_ms: 30000, finish_reason: 'error', status: 'malformed' },
];
const rollouts: RolloutRecord[] = [
  { run_id: 'r', step: 3, policy_version: 2, prompt_id: 'q1', group_idx: 0, prompt: 'p', example: '{"answer":"4"}', completion: 'c', token_ids: [1, 2, 3], logprobs: [-0.5, -1.25, -0.125], reward: 1, reward_parts: '{"kk":1}', advantage: 0.5, status: 'ok', finish_reason: 'stop' },
  { run_id: 'r', step: 3, policy_version: 2, prompt_id: 'q1', group_idx: 1, prompt: 'p', example: '{}', completion: '', token_ids: [], logprobs: [], reward: null, reward_parts: '{}', advantage: null, status: 'timeout', finish_reason: 'length' },
];
const metricRows: MetricRecord[] = [{ run_id: 'r', step: 1, name: 'loss', value: 0.25, wall_time: 1763769600.5 }];

const cases: [string, Artifact<unknown>, object[]][] = [
  ['puzzles', PUZZLES, puzzles.map(puzzleToRecord)],
  ['traces', TRACES, traces],
  ['rollouts', ROLLOUTS, rollouts],
  ['metrics', METRICS, metricRows],
];

async function collect(path: string): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for await (const r of readRows(path)) out.push(r);
  return out;
}

describe('schemas round-trip through every format', () => {
  for (const [name, artifact, rows] of cases) {
    for (const ext of ['arrow', 'arrows', 'jsonl', 'jsonl.gz', 'parquet']) {
      it(`${name} via .${ext}`, async () => {
        const path = join(await tempDir(), `${name}.${ext}`);
        const schema = withRunMetadata(artifact, { seed: 7, note: name });
        expect(await writeRows(path, schema, rows, { batchSize: 7 })).toBe(rows.length);
        expect(await collect(path)).toEqual(rows);
        const info = await readInfo(path);
        if (ext.startsWith('arrow')) {
          expect(info.artifact).toBe(name);
          expect(info.config).toEqual({ seed: 7, note: name });
          expect(info.schema?.fields.map((f) => `${f.name}:${String(f.type)}`)).toEqual(
            artifact.schema.fields.map((f) => `${f.name}:${String(f.type)}`),
          );
        }
      });
    }
  }

  it('keeps puzzles identical through record conversion', async () => {
    const path = join(await tempDir(), 'p.arrow');
    await writeRows(path, withRunMetadata(PUZZLES, {}), puzzles.map(puzzleToRecord));
    const back = [];
    for await (const p of readPuzzles(path)) back.push(p);
    expect(back).toEqual(puzzles);
  });
});

describe('bad input', () => {
  it('names the column of a wrong type', async () => {
    const dir = await tempDir();
    const fields = PUZZLES.schema.fields.map((f) => (f.name === 'solution' ? new Field('solution', new List(new Field('item', new Utf8())), false) : f));
    const bad = new Schema(fields, PUZZLES.schema.metadata);
    const rec = { ...puzzleToRecord(puzzles[0]!), solution: ['yes', 'no'] };
    await writeRows(join(dir, 'bad.arrow'), bad, [rec]);
    const read = async () => {
      for await (const _ of readPuzzles(join(dir, 'bad.arrow'))) void _;
    };
    await expect(read()).rejects.toThrow(SchemaMismatchError);
    await expect(read()).rejects.toThrow(/column 'solution' has type List<Utf8>, expected List<Bool>/);
  });

  it('names the line of malformed JSON Lines', async () => {
    const path = join(await tempDir(), 'bad.jsonl');
    await writeFile(path, '{"a": 1}\n\n{"a": 2\n');
    await expect(collect(path)).rejects.toThrow(/bad\.jsonl line 3: not valid JSON/);
    await writeFile(path, '[1, 2]\n');
    await expect(collect(path)).rejects.toThrow(/line 1: expected a JSON object/);
  });

  it('rejects unknown extensions and unreadable Parquet', async () => {
    expect(() => formatOf('x.csv')).toThrow(DataFormatError);
    expect(() => formatOf('x.csv')).toThrow(/unknown file type; use one of \.arrow/);
    const path = join(await tempDir(), 'junk.parquet');
    await writeFile(path, 'PAR1 but not really');
    await expect(collect(path)).rejects.toThrow(/not a readable Parquet file/);
  });

  it('explains which column of a puzzle row is wrong', () => {
    const good = puzzleToRecord(puzzles[0]!) as unknown as Record<string, unknown>;
    expect(() => puzzleFromRecord({ ...good, solution: [true] }, 4)).toThrow(PuzzleRecordError);
    expect(() => puzzleFromRecord({ ...good, solution: [true] }, 4)).toThrow(/row 4: column 'solution' must be a list of 2 booleans/);
    expect(() => puzzleFromRecord({ ...good, statements: '[["nope"]]' })).toThrow(/column 'statements' cannot be read: unknown operator/);
    expect(() => puzzleFromRecord({ ...good, quiz: 3 })).toThrow(/column 'quiz' is missing or not a string/);
  });

  it('refuses a null in a non-nullable column', async () => {
    const path = join(await tempDir(), 'm.arrows');
    const schema = new Schema([new Field('a', new Int32(), false)]);
    await expect(writeRows(path, schema, [{ a: 1 }, { a: null }])).rejects.toThrow(/record 1: column 'a' is null but is not nullable/);
  });
});
