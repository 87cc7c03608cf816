/**
 * The RL run folder (`warmup rlvr --out DIR`): where its files are, which checkpoint a
 * resume starts from, whether a resumed command line matches the run, what was logged
 * after that checkpoint, and the metric rows of a step.
 *
 *   config.json                 the resolved config of the run
 *   rollouts.arrows             every rollout, one flushed batch per step
 *   metrics.arrows              one row per metric per step
 *   checkpoints/step-NNNNNN/    every --save-every steps
 *   last/                       at the end, and on Ctrl-C
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readRows } from '../data/dataset.js';
import { ArrowTruncatedError } from '../data/ipc.js';
import { makeMetricRecords, type MetricRecord, type RolloutRecord } from '../data/schemas.js';
import { changedKeys } from '../util/config-diff.js';
import { readLoggedSteps } from './replay.js';
import type { RLVRStep } from './rlvr-types.js';

/** The files of a run folder. */
export function rlRunPaths(out: string) {
  return { config: join(out, 'config.json'), rollouts: join(out, 'rollouts.arrows'), metrics: join(out, 'metrics.arrows'), last: join(out, 'last'), checkpoints: join(out, 'checkpoints') };
}

/** The folder of the checkpoint saved after `step`. */
export const stepCheckpointDir = (out: string, step: number): string => join(out, 'checkpoints', `step-${String(step).padStart(6, '0')}`);

/** Where a run resumes: a checkpoint (`dir`), or the starting model (`dir` null) when killed before its first one. */
export interface ResumePoint {
  readonly dir: string | null;
  readonly step: number;
  readonly cursor: number;
}

/** The newest checkpoint of a run folder (last/ or checkpoints/step-*), by its step. */
export async function newestCheckpoint(out: string): Promise<ResumePoint | null> {
  const paths = rlRunPaths(out);
  const candidates = [paths.last];
  if (existsSync(paths.checkpoints)) for (const d of await readdir(paths.checkpoints)) if (/^step-\d+$/.test(d)) candidates.push(join(paths.checkpoints, d));
  let best: ResumePoint | null = null;
  for (const dir of candidates) {
    const statePath = join(dir, 'trainer_state.json');
    if (!existsSync(statePath)) continue;
    const s = JSON.parse(await readFile(statePath, 'utf8')) as { step?: unknown; cursor?: unknown };
    if (typeof s.step !== 'number' || typeof s.cursor !== 'number') continue;
    if (!best || s.step > best.step) best = { dir, step: s.step, cursor: s.cursor };
  }
  return best;
}

/** Where `--resume` starts in `out` (null without it); throws when there is nothing to resume, or when a new run would overwrite one. */
export async function resumePoint(out: string, resume: boolean): Promise<ResumePoint | null> {
  const paths = rlRunPaths(out);
  if (!resume) {
    if (existsSync(paths.rollouts)) throw new Error(`${out} already holds a run: pass --resume to continue it, or choose another --out`);
    return null;
  }
  const found = await newestCheckpoint(out);
  if (found) return found;
  if (!existsSync(paths.rollouts) || !existsSync(paths.config)) throw new Error(`--resume: ${out} has no checkpoint (last/ or checkpoints/step-*/) and no rollouts log to resume from`);
  // Killed before its first checkpoint: start again from the starting model and train every logged step from the log.
  return { dir: null, step: 0, cursor: 0 };
}

/** Throws unless the resumed command line asks for the run saved in `out` (only the keys in `mayChange` may differ). */
export async function checkResumeConfig(out: string, now: Record<string, unknown>, mayChange: readonly string[]): Promise<void> {
  const saved = JSON.parse(await readFile(rlRunPaths(out).config, 'utf8')) as { config: Record<string, unknown>; data: unknown; rewards: unknown };
  const differs = changedKeys({ ...saved.config, data: saved.data, rewards: saved.rewards }, now, mayChange);
  if (differs.length > 0) throw new Error(`--resume: the flags differ from the run in ${out} (${differs.join(', ')}); resume with the same command line (only --steps/--epochs may change)`);
}

/** What a resumed run reads back: the steps logged after its checkpoint (trained from the log), and the last step with metrics. */
export async function loggedAfter(out: string, step: number): Promise<{ steps: RolloutRecord[][]; metricsDone: number }> {
  const paths = rlRunPaths(out);
  const steps: RolloutRecord[][] = [];
  if (existsSync(paths.rollouts)) for await (const s of readLoggedSteps(paths.rollouts, { afterStep: step, tolerateTornTail: true })) steps.push(s);
  let metricsDone = 0;
  // A run killed mid-write leaves a torn last batch; its complete rows count, and the appending writer drops the rest.
  try {
    if (existsSync(paths.metrics)) for await (const m of readRows(paths.metrics)) metricsDone = Math.max(metricsDone, Number(m.step));
  } catch (e) {
    if (!(e instanceof ArrowTruncatedError)) throw e;
  }
  return { steps, metricsDone };
}

/** Metric rows of one step. */
export function stepMetricRows(runId: string, s: RLVRStep): MetricRecord[] {
  return makeMetricRecords(runId, s.step, {
    reward_mean: s.rewardMean,
    reward_std: s.rewardStd,
    pass_rate: s.passRate,
    loss: s.loss,
    kl: s.kl,
    clip_fraction: s.clipFraction,
    entropy: s.entropy,
    grad_norm: s.gradNorm,
    lr: s.lr,
    completion_length: s.completionLength,
    truncated: s.truncated,
    unscored: s.unscored,
    dropped_groups: s.dropped,
    staleness: s.staleness,
    signal: s.signal,
    tokens: s.tokens,
    rollouts_per_s: s.rolloutsPerSec,
    model_idle: s.modelIdle,
    pool_idle: s.poolIdle,
    pool_util: s.poolUtil,
  });
}
