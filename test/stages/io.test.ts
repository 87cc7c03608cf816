import { join } from 'node:path';
import { lastValueFrom, map, Observable, Subject, take, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { PUZZLES, withRunMetadata, type MetricRecord, type PuzzleRecord } from '../../src/data/schemas.js';
import { puzzleToRecord } from '../../src/kk/records.js';
import { readDataset, tapArrowStream, writeArrowStream } from '../../src/stages/io.js';
import { kkGenerate } from '../../src/stages/kk-generate.js';
import { generatePuzzles } from '../../src/kk/generator.js';
import { tempDir } from '../helpers.js';
import { fileRows, metric, schema } from './metric-fixture.js';

describe('writeArrowStream', () => {
  it('writes every record in batches and reports progress, ending with done', async () => {
    const path = join(await tempDir(), 'm.arrows');
    const rows = Array.from({ length: 25 }, (_, i) => metric(i));
    const progress = await lastValueFrom(
      new Observable<MetricRecord>((s) => {
        rows.forEach((r) => s.next(r));
        s.complete();
      }).pipe(writeArrowStream(path, schema, { batchSize: 10 }), toArray()),
    );
    expect(progress.map((p) => [p.rows, p.batches, p.done])).toEqual([
      [10, 1, false],
      [20, 2, false],
      [25, 3, false],
      [25, 3, true],
    ]);
    expect(await fileRows(path)).toEqual(rows);
  });

  it('flushes a slow flow on time, so rows reach the disk before the flow ends', async () => {
    const path = join(await tempDir(), 'slow.arrows');
    const source = new Subject<MetricRecord>();
    const progress: number[] = [];
    const done = lastValueFrom(source.pipe(writeArrowStream(path, schema, { batchSize: 100, flushMs: 20 }), map((p) => progress.push(p.rows))));
    source.next(metric(0));
    source.next(metric(1));
    await new Promise((r) => setTimeout(r, 150));
    expect(progress).toContain(2);
    expect(await fileRows(path)).toEqual([metric(0), metric(1)]);
    source.complete();
    await done;
  });

  it('writes everything received, buffered rows included, before passing an error on', async () => {
    const path = join(await tempDir(), 'err.arrows');
    const source = new Observable<MetricRecord>((s) => {
      for (let i = 0; i < 7; i++) s.next(metric(i)); // one full batch of 5, two rows still buffered
      setTimeout(() => s.error(new Error('upstream failed')), 10);
    });
    await expect(lastValueFrom(source.pipe(writeArrowStream(path, schema, { batchSize: 5, flushMs: 60_000 })))).rejects.toThrow('upstream failed');
    expect(await fileRows(path)).toEqual([0, 1, 2, 3, 4, 5, 6].map(metric));
  });

  it('appends to an existing log when resuming', async () => {
    const path = join(await tempDir(), 'log.arrows');
    const write = (from: number, n: number, append: boolean) =>
      lastValueFrom(
        new Observable<MetricRecord>((s) => {
          for (let i = from; i < from + n; i++) s.next(metric(i));
          s.complete();
        }).pipe(writeArrowStream(path, schema, { append })),
      );
    await write(0, 3, false);
    const last = await write(3, 2, true);
    expect(last).toMatchObject({ existingRows: 3, rows: 2, done: true });
    expect(await fileRows(path)).toEqual([0, 1, 2, 3, 4].map(metric));
  });
});

describe('tapArrowStream and readDataset', () => {
  it('passes records through unchanged, logs them, and reads them back', async () => {
    const path = join(await tempDir(), 'p.arrows');
    const puzzles = [...generatePuzzles({ people: [3, 4], count: 40, seed: 5 })].map(puzzleToRecord);
    const passed = await lastValueFrom(
      kkGenerate({ people: [3, 4], count: 40, seed: 5 }, 7).pipe(
        map(puzzleToRecord),
        tapArrowStream<PuzzleRecord>(path, withRunMetadata(PUZZLES, {}), { batchSize: 16 }),
        toArray(),
      ),
    );
    expect(passed).toEqual(puzzles);
    expect(await lastValueFrom(readDataset<PuzzleRecord>(path).pipe(toArray()))).toEqual(puzzles);
  });

  it('stops reading, and generating, on unsubscribe', async () => {
    const path = join(await tempDir(), 'p.arrows');
    await lastValueFrom(
      kkGenerate({ people: [3], count: 300, seed: 1 }).pipe(map(puzzleToRecord), writeArrowStream(path, withRunMetadata(PUZZLES, {}), { batchSize: 10 })),
    );
    expect(await lastValueFrom(readDataset(path).pipe(take(15), toArray()))).toHaveLength(15);
    expect(await lastValueFrom(kkGenerate({ people: [5], count: 10_000, seed: 1 }).pipe(take(3), toArray()))).toHaveLength(3);
  });

  it('errors the Observable on a missing file', async () => {
    await expect(lastValueFrom(readDataset('/nonexistent/x.arrows'))).rejects.toThrow(/x.arrows: no such file/);
  });
});

describe('kkGenerate', () => {
  it('emits the generator output and reports exhaustion as an error', async () => {
    const got = await lastValueFrom(kkGenerate({ people: [2, 6], count: 20, seed: 3 }, 4).pipe(toArray()));
    expect(got).toEqual([...generatePuzzles({ people: [2, 6], count: 20, seed: 3 })]);
    await expect(lastValueFrom(kkGenerate({ people: [2], count: 500, seed: 3 }))).rejects.toThrow(/only 399/);
  });
});
