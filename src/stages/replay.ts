/**
 * The replay stage: read logged rollouts a step at a time and re-score them with other
 * rewards; training a policy
 * offline from them (the rows to train on come from `train/rollout-log.ts`).
 *
 * Logs are read one step at a time (a step's rows end where the next step's begin), so
 * a log of any length replays in memory bounded by one step.
 */
import { lastValueFrom, from, toArray } from 'rxjs';
import { readRowBatches } from '../data/dataset.js';
import { ArrowTruncatedError } from '../data/ipc.js';
import type { RolloutRecord } from '../data/schemas.js';
import type { RewardResult, RewardSample } from '../reward/types.js';
import { verify } from './verify.js';

const REQUIRED = ['step', 'prompt_id', 'group_idx', 'prompt', 'completion', 'token_ids', 'logprobs'] as const;

function toRecord(r: Record<string, unknown>, where: string): RolloutRecord {
  for (const k of REQUIRED) if (r[k] === undefined || r[k] === null) throw new Error(`${where}: column '${k}' is missing; is this a rollouts log (warmup rlvr --out DIR/rollouts.arrows)?`);
  const list = (v: unknown): number[] => Array.from(v as ArrayLike<number>, Number);
  const text = (v: unknown): string => (typeof v === 'string' ? v : '');
  return {
    run_id: text(r.run_id),
    step: Number(r.step),
    policy_version: Number(r.policy_version ?? 0),
    prompt_id: String(r.prompt_id),
    group_idx: Number(r.group_idx),
    prompt: String(r.prompt),
    example: typeof r.example === 'string' ? r.example : '{}',
    completion: String(r.completion),
    token_ids: list(r.token_ids),
    logprobs: list(r.logprobs),
    reward: typeof r.reward === 'number' ? r.reward : null,
    reward_parts: typeof r.reward_parts === 'string' ? r.reward_parts : '{}',
    advantage: typeof r.advantage === 'number' ? r.advantage : null,
    status: text(r.status),
    finish_reason: text(r.finish_reason),
  };
}

/**
 * Yields the rows of each logged step, in file order, for steps after `afterStep`.
 * With `tolerateTornTail` (resume after a crash) a torn last batch ends the log
 * quietly; otherwise it throws `ArrowTruncatedError` after the complete steps.
 */
export async function* readLoggedSteps(path: string, options: { afterStep?: number; tolerateTornTail?: boolean } = {}): AsyncGenerator<RolloutRecord[]> {
  let current: RolloutRecord[] = [];
  let row = 0;
  try {
    for await (const rows of readRowBatches(path)) {
      for (const r of rows) {
        row++;
        const rec = toRecord(r, `${path} row ${row}`);
        if (current.length > 0 && (current[0] as RolloutRecord).step !== rec.step) {
          if ((current[0] as RolloutRecord).step > (options.afterStep ?? -Infinity)) yield current;
          current = [];
        }
        current.push(rec);
      }
    }
  } catch (e) {
    if (!(options.tolerateTornTail && e instanceof ArrowTruncatedError)) throw e;
  }
  if (current.length > 0 && (current[0] as RolloutRecord).step > (options.afterStep ?? -Infinity)) yield current;
}

/** Re-scores a step's rows with `score`; the row's ground truth comes from its logged `example`. */
export async function rescoreStep(rows: readonly RolloutRecord[], score: (s: RewardSample, signal: AbortSignal) => Promise<RewardResult>, concurrency: number): Promise<{ record: RolloutRecord; result: RewardResult }[]> {
  const samples = rows.map((r) => {
    let example: Record<string, unknown>;
    try {
      example = JSON.parse(r.example) as Record<string, unknown>;
    } catch {
      throw new Error(`step ${r.step}, prompt '${r.prompt_id}': the logged example is not valid JSON`);
    }
    return { id: `${r.prompt_id}#${r.group_idx}`, prompt: r.prompt, completion: r.completion, row: example, record: r };
  });
  const scored = await lastValueFrom(from(samples).pipe(verify({ score, concurrency }), toArray()), { defaultValue: [] });
  return scored.map((s) => ({
    record: { ...s.record, reward: s.reward.score, reward_parts: JSON.stringify(s.reward.parts), status: s.reward.status },
    result: s.reward,
  }));
}

/** How re-scoring moved the rewards. */
export class RescoreSummary {
  rows = 0;
  changed = 0;
  private oldSum = 0;
  private oldN = 0;
  private newSum = 0;
  private newN = 0;
  /** old status → new status → count. */
  readonly confusion: Record<string, Record<string, number>> = {};

  add(before: RolloutRecord, after: RolloutRecord): void {
    this.rows++;
    if (before.reward !== null) {
      this.oldSum += before.reward;
      this.oldN++;
    }
    if (after.reward !== null) {
      this.newSum += after.reward;
      this.newN++;
    }
    if (before.reward !== after.reward || before.status !== after.status) this.changed++;
    const row = (this.confusion[before.status || '(none)'] ??= {});
    row[after.status] = (row[after.status] ?? 0) + 1;
  }

  toJSON(): Record<string, unknown> {
    return {
      rows: this.rows,
      changed: this.changed,
      mean_reward_before: this.oldN ? this.oldSum / this.oldN : null,
      mean_reward_after: this.newN ? this.newSum / this.newN : null,
      scored_before: this.oldN,
      scored_after: this.newN,
      status_confusion: this.confusion,
    };
  }

  /** The confusion between old and new status, as a text table. */
  table(): string {
    const olds = Object.keys(this.confusion).sort();
    const news = [...new Set(Object.values(this.confusion).flatMap((r) => Object.keys(r)))].sort();
    const width = Math.max(10, ...olds.map((s) => s.length), ...news.map((s) => s.length)) + 2;
    const pad = (s: string): string => s.padStart(width);
    const lines = [`${'before \\ after'.padEnd(width)}${news.map(pad).join('')}`];
    for (const o of olds) lines.push(`${o.padEnd(width)}${news.map((n) => pad(String(this.confusion[o]?.[n] ?? 0))).join('')}`);
    return lines.join('\n');
  }
}
