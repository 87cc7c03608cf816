import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MetricRecord } from '../../src/data/schemas.js';
import { openArrowLog } from '../../src/stages/arrow-log.js';
import { tempDir } from '../helpers.js';
import { fileRows, metric, schema } from './metric-fixture.js';

describe('openArrowLog', () => {
  it('resolves write() once those rows are on disk, reports what an append found, and creates the folder', async () => {
    const path = join(await tempDir(), 'new-dir', 'log.arrows');
    const log = await openArrowLog<MetricRecord>(path, schema, { flushMs: 0 });
    expect([log.existingRows, log.droppedBytes]).toEqual([0, 0]);
    await log.write([metric(0), metric(1)]);
    expect(await fileRows(path)).toEqual([metric(0), metric(1)]); // readable while still open
    log.push([metric(2)]);
    await log.write([metric(3)]); // waits for the rows queued before it too
    expect(log.rowsWritten).toBe(4);
    expect(await fileRows(path)).toEqual([0, 1, 2, 3].map(metric));
    await log.write([]);
    await log.close();
    const again = await openArrowLog<MetricRecord>(path, schema, { append: true, flushMs: 0 });
    expect(again.existingRows).toBe(4);
    await again.write([metric(4)]);
    await again.close();
    expect(await fileRows(path)).toEqual([0, 1, 2, 3, 4].map(metric));
  });

  it.skipIf(!existsSync('/dev/full'))('rejects a pending write() when the disk is full, and close() says so too', async () => {
    const log = await openArrowLog<MetricRecord>('/dev/full', schema, { flushMs: 0 });
    await expect(log.write([metric(0)])).rejects.toThrow(/ENOSPC/);
    await expect(log.close()).rejects.toThrow(/ENOSPC/);
  });
});
