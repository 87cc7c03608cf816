/**
 * Weighted composition of several rewards into one result, keeping each reward's
 * score and parts for logs. A composite is unscorable (null) if any part is, because a
 * sum that silently treats "cannot score" as 0 would bias training.
 */
import { REWARD_STATUSES, type RewardResult, type RewardStatus } from './types.js';

// Worst first: the composite reports the most serious status among its parts.
const SEVERITY: RewardStatus[] = ['crashed', 'timeout', 'unscorable', 'format_error', 'wrong', 'ok'];

/** Checks a result from untrusted code; a bad one becomes `crashed` with the reason. */
export function checkResult(id: string, r: unknown): RewardResult {
  const bad = (why: string): RewardResult => ({ score: null, status: 'crashed', parts: {}, reason: `reward '${id}' ${why}` });
  if (r === null || typeof r !== 'object') return bad(`returned ${r === null ? 'null' : typeof r}, not a result object`);
  const { score, status, parts, reason } = r as Partial<RewardResult>;
  if (!(score === null || (typeof score === 'number' && Number.isFinite(score)))) return bad(`returned score ${String(score)}; it must be a finite number or null`);
  if (!REWARD_STATUSES.includes(status as RewardStatus)) return bad(`returned status ${JSON.stringify(status)}; expected one of ${REWARD_STATUSES.join(', ')}`);
  if (score === null && (status === 'ok' || status === 'wrong')) return bad(`returned a null score with status '${status}'`);
  const cleanParts: Record<string, number | null> = {};
  if (parts && typeof parts === 'object') {
    for (const [k, v] of Object.entries(parts)) cleanParts[k] = typeof v === 'number' && Number.isFinite(v) ? v : null;
  }
  return { score, status: status as RewardStatus, parts: cleanParts, reason: typeof reason === 'string' ? reason : null };
}

/** Combines per-reward results with weights (default 1 each). */
export function composeResults(entries: readonly { id: string; weight: number; result: RewardResult }[]): RewardResult {
  if (entries.length === 1) {
    const [only] = entries as [{ id: string; weight: number; result: RewardResult }];
    const { result, weight } = only;
    return weight === 1 ? result : { ...result, score: result.score === null ? null : weight * result.score };
  }
  const parts: Record<string, number | null> = {};
  let total: number | null = 0;
  let status: RewardStatus = 'ok';
  const reasons: string[] = [];
  for (const { id, weight, result } of entries) {
    parts[id] = result.score;
    for (const [k, v] of Object.entries(result.parts)) parts[`${id}.${k}`] = v;
    total = total === null || result.score === null ? null : total + weight * result.score;
    if (SEVERITY.indexOf(result.status) < SEVERITY.indexOf(status)) status = result.status;
    if (result.reason) reasons.push(`${id}: ${result.reason}`);
  }
  return { score: total, status, parts, reason: reasons.length > 0 ? reasons.join('; ') : null };
}
