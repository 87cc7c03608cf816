/**
 * Fills the RL stage's optimiser batches from scored groups: dynamic sampling drops a
 * group whose rewards are all equal, a group too stale for the next policy version is
 * dropped too, and each drop frees a credit so another prompt refills the batch.
 * Dropped groups are logged with the next batch, every advantage null.
 */
import type { ScoredGroup } from '../train/grpo-batch.js';
import type { Credits } from './rlvr-clocks.js';
import type { Scored } from './rollout.js';

/** Dynamic sampling gives up after this many batches' worth of dropped groups in a row (DAPO's max_num_gen_batches). */
export const MAX_DROPS_PER_STEP = 8;

export interface Group {
  readonly members: readonly Scored[];
  readonly rewards: readonly (number | null)[];
  readonly advantages: readonly (number | null)[];
}

const asDropped = (g: Group): Group => ({ ...g, advantages: g.advantages.map(() => null) });

export class GroupBatcher {
  private accepted: Group[] = [];
  private pendingLog: Group[] = [];
  /** Groups dropped since the last full batch. */
  droppedSinceStep = 0;

  constructor(
    private readonly c: { readonly promptsPerStep: number; readonly maxStaleness: number; readonly dynamicSampling: boolean },
    private readonly credits: Credits,
  ) {}

  /** Adds one group; returns a full batch and the dropped groups to log before it, or null while the batch is not full. */
  add(members: readonly Scored[], scored: ScoredGroup, version: number): { batch: Group[]; dropped: Group[] } | null {
    const group: Group = { members, rewards: scored.rewards, advantages: scored.advantages };
    if (this.c.dynamicSampling && scored.degenerate) {
      this.drop([group]);
      if (this.droppedSinceStep > MAX_DROPS_PER_STEP * this.c.promptsPerStep) {
        throw new Error(
          `rlvr: dynamic sampling dropped ${this.droppedSinceStep} groups in a row without filling a batch of ${this.c.promptsPerStep}: every group's completions get the same reward (e.g. ${String(scored.rewards[0])}); there is nothing to learn. Check the reward, the prompt template and maxNewTokens`,
        );
      }
      return null;
    }
    this.accepted.push(group);
    // Too stale to train the next version: drop, refill.
    const fresh = this.accepted.filter((g) => version - (g.members[0]?.version ?? version) <= this.c.maxStaleness);
    if (fresh.length < this.accepted.length) this.drop(this.accepted.filter((g) => !fresh.includes(g)));
    this.accepted = fresh;
    if (this.accepted.length < this.c.promptsPerStep) return null;
    const batch = this.accepted.slice(0, this.c.promptsPerStep);
    this.accepted = this.accepted.slice(this.c.promptsPerStep);
    const dropped = this.pendingLog;
    this.pendingLog = [];
    return { batch, dropped };
  }

  private drop(groups: readonly Group[]): void {
    this.pendingLog.push(...groups.map(asDropped));
    this.droppedSinceStep += groups.length;
    this.credits.release(groups.length);
    this.credits.grant(groups.length);
  }
}
