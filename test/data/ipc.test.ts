import { spawn } from 'node:child_process';
import { appendFile, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { ArrowFormatError, ArrowStreamWriter, ArrowTruncatedError, readArrowBatches, writeArrowFile } from '../../src/data/ipc.js';
import { batchToRecords, recordsToBatch, SchemaMismatchError } from '../../src/data/records.js';
import { METRICS, PUZZLES, withRunMetadata, type MetricRecord } from '../../src/data/schemas.js';
import { ROOT, tempDir } from '../helpers.js';

const schema = withRunMetadata(METRICS, { test: true });
const metrics = (from: number, n: number): MetricRecord[] =>
  Array.from({ length: n }, (_, i) => ({ run_id: 'r', step: from + i, name: 'loss', value: (from + i) / 10, wall_time: 1.5 }));

async function readAll(path: string, options = {}): Promise<{ rows: MetricRecord[]; error: unknown }> {
  const rows: MetricRecord[] = [];
  try {
    for await (const b of readArrowBatches(path, options)) rows.push(...batchToRecords<MetricRecord>(b));
  } catch (error) {
    return { rows, error };
  }
  return { rows, error: null };
}

async function writeStream(path: string, batches: number, per = 10): Promise<void> {
  const w = await ArrowStreamWriter.open(path, schema);
  for (let b = 0; b < batches; b++) await w.write(recordsToBatch(schema, metrics(b * per, per)));
  await w.close();
}

describe('Arrow IPC streams', () => {
  it('writes a stream that Arrow itself reads, schema metadata included', async () => {
    const path = join(await tempDir(), 'm.arrows');
    await writeStream(path, 3);
    const table = tableFromIPC(await readFile(path));
    expect(table.numRows).toBe(30);
    expect(table.batches).toHaveLength(3);
    expect(table.schema.metadata.get('warmup.artifact')).toBe('metrics');
    expect(JSON.parse(table.schema.metadata.get('warmup.config') ?? '')).toEqual({ test: true });
    expect((await readAll(path)).rows).toEqual(metrics(0, 30));
  });

  it('writes an empty stream with its schema', async () => {
    const path = join(await tempDir(), 'empty.arrows');
    await (await ArrowStreamWriter.open(path, schema)).close();
    expect(tableFromIPC(await readFile(path)).schema.fields.map((f) => f.name)).toEqual(METRICS.schema.fields.map((f) => f.name));
    expect(await readAll(path)).toEqual({ rows: [], error: null });
  });

  it('yields every complete batch of a truncated stream, then a clear error', async () => {
    const path = join(await tempDir(), 'm.arrows');
    await writeStream(path, 4);
    const size = (await stat(path)).size;
    await truncate(path, size - 8 - 30); // drop the end marker and 30 bytes of the last batch
    const { rows, error } = await readAll(path);
    expect(rows).toEqual(metrics(0, 30));
    expect(error).toBeInstanceOf(ArrowTruncatedError);
    expect(String(error)).toMatch(/is truncated: .*The 3 complete batches before it \(30 rows\) were read/);
  });

  it('reads a stream cut between batches (a crashed writer) without loss or error', async () => {
    const path = join(await tempDir(), 'm.arrows');
    const w = await ArrowStreamWriter.open(path, schema);
    await w.write(recordsToBatch(schema, metrics(0, 5)));
    await w.abandon();
    expect(await readAll(path)).toEqual({ rows: metrics(0, 5), error: null });
  });

  it('survives SIGKILL mid-run: every announced batch is on disk, and append resumes after it', async () => {
    const path = join(await tempDir(), 'crash.arrows');
    const run = (args: string[], batches: number): Promise<number> =>
      new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/fixtures/slow-writer.ts'), path, ...args], {
          cwd: ROOT,
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        let seen = 0;
        child.stdout.on('data', (d: Buffer) => {
          seen += d.toString().split('\n').filter((l) => l.startsWith('batch')).length;
          if (seen >= batches) child.kill('SIGKILL');
        });
        child.on('error', reject);
        child.on('exit', () => resolve(seen));
      });
    const announced = await run([], 5);
    const first = await readAll(path);
    expect(first.rows.length).toBeGreaterThanOrEqual(announced * 100);
    expect(first.rows.length % 100).toBe(0);
    expect(first.rows.map((r) => r.step)).toEqual([...Array(first.rows.length).keys()]);
    await run(['append'], 3);
    const second = await readAll(path);
    // No duplicate and no gap: the resumed writer numbers on from the rows it found.
    expect(second.rows.map((r) => r.step)).toEqual([...Array(second.rows.length).keys()]);
    expect(second.rows.length).toBeGreaterThanOrEqual(first.rows.length + 300);
  });

  it('drops a torn tail when appending, and keeps the rest', async () => {
    const path = join(await tempDir(), 'm.arrows');
    await writeStream(path, 2);
    await appendFile(path, new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x40, 0, 0, 0, 1, 2, 3])); // half a message
    const w = await ArrowStreamWriter.open(path, schema, { append: true });
    expect(w.existingRows).toBe(20);
    expect(w.droppedBytes).toBe(8 + 11); // end marker + the torn message
    await w.write(recordsToBatch(schema, metrics(20, 10)));
    await w.close();
    expect(await readAll(path)).toEqual({ rows: metrics(0, 30), error: null });
  });

  it('refuses to append to a file of another schema, naming the column', async () => {
    const path = join(await tempDir(), 'm.arrows');
    await writeStream(path, 1);
    await expect(ArrowStreamWriter.open(path, withRunMetadata(PUZZLES, {}), { append: true })).rejects.toThrow(SchemaMismatchError);
    await expect(ArrowStreamWriter.open(path, withRunMetadata(PUZZLES, {}), { append: true })).rejects.toThrow(/column 'id' is missing/);
  });

  it('follows a stream while it is being written, until the writer closes it', async () => {
    const path = join(await tempDir(), 'live.arrows');
    const w = await ArrowStreamWriter.open(path, schema);
    await w.write(recordsToBatch(schema, metrics(0, 10)));
    const reading = readAll(path, { follow: true, pollMs: 5 });
    for (let b = 1; b < 5; b++) {
      await new Promise((r) => setTimeout(r, 20));
      await w.write(recordsToBatch(schema, metrics(b * 10, 10)));
    }
    await w.close();
    expect(await reading).toEqual({ rows: metrics(0, 50), error: null });
  });

  it('stops following after the idle timeout', async () => {
    const path = join(await tempDir(), 'stalled.arrows');
    const w = await ArrowStreamWriter.open(path, schema);
    await w.write(recordsToBatch(schema, metrics(0, 3)));
    expect(await readAll(path, { follow: true, pollMs: 5, idleTimeoutMs: 50 })).toEqual({ rows: metrics(0, 3), error: null });
    await w.abandon();
  });

  it('rejects files that are not Arrow, or empty', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'junk.arrows'), 'this is not arrow at all, just text');
    await writeFile(join(dir, 'empty.arrows'), '');
    expect((await readAll(join(dir, 'junk.arrows'))).error).toBeInstanceOf(ArrowFormatError);
    expect(String((await readAll(join(dir, 'empty.arrows'))).error)).toMatch(/is empty/);
  });
});

describe('Arrow IPC files', () => {
  it('writes atomically, reads back, and recovers complete batches when the footer is lost', async () => {
    const dir = await tempDir();
    const path = join(dir, 'm.arrow');
    await writeArrowFile(path, schema, [recordsToBatch(schema, metrics(0, 10)), recordsToBatch(schema, metrics(10, 10))]);
    expect(tableFromIPC(await readFile(path)).numRows).toBe(20);
    expect((await readAll(path)).rows).toEqual(metrics(0, 20));
    const size = (await stat(path)).size;
    const cut = join(dir, 'cut.arrow');
    await writeFile(cut, (await readFile(path)).subarray(0, Math.floor(size * 0.7)));
    const { rows, error } = await readAll(cut);
    expect(rows.length).toBe(10);
    expect(error).toBeInstanceOf(ArrowTruncatedError);
  });

  it('leaves no file behind when the batches fail mid-way', async () => {
    const dir = await tempDir();
    const path = join(dir, 'm.arrow');
    function* failing() {
      yield recordsToBatch(schema, metrics(0, 3));
      throw new Error('source died');
    }
    await expect(writeArrowFile(path, schema, failing())).rejects.toThrow('source died');
    await expect(stat(path)).rejects.toThrow();
    await expect(stat(`${path}.tmp-${process.pid}`)).rejects.toThrow();
  });
});
