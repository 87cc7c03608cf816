/** Metric rows and a reader for the stage I/O tests (io.test.ts, arrow-log.test.ts). */
import { readArrowBatches } from '../../src/data/ipc.js';
import { batchToRecords } from '../../src/data/records.js';
import { METRICS, withRunMetadata, type MetricRecord } from '../../src/data/schemas.js';

export const schema = withRunMetadata(METRICS, {});
export const metric = (step: number): MetricRecord => ({ run_id: 'r', step, name: 'm', value: step, wall_time: 0 });

export async function fileRows(path: string): Promise<MetricRecord[]> {
  const out: MetricRecord[] = [];
  for await (const b of readArrowBatches(path)) out.push(...batchToRecords<MetricRecord>(b));
  return out;
}
