/**
 * Replay logged rollouts: re-score them with other rewards and/or retrain a
 * checkpoint from them, with the logged log-probs as the behaviour policy, so an RL
 * experiment can be repeated or varied without sampling again.
 *
 *   warmup run pipelines/replay.ts --set log=runs/rlvr-default/rl/rollouts.arrows --set reward=kk [--set model=CKPT]
 */
import { resolve } from 'node:path';
import type { Pipeline } from 'warmup';

type Config = {
  /** The rollouts log (an rlvr run's rollouts.arrows). */
  log: string;
  /** Reward to re-score with ('' keeps the logged rewards). */
  reward: string;
  /** Checkpoint to retrain from the (re-scored) log ('' skips training). */
  model: string;
  advantage: string;
  /** 0: the paper's 1e-6 scaled to the model's width. */
  lr: number;
};

export default {
  name: 'replay',
  description: 're-score and/or retrain from a logged rollouts dataset',
  presets: { default: { log: '', reward: '', model: '', advantage: 'dr-grpo', lr: 0 } },
  async run(ctx) {
    const c = ctx.config;
    if (!c.log) throw new Error('set the log: --set log=runs/…/rollouts.arrows');
    if (!c.reward && !c.model) throw new Error('nothing to do: --set reward=ID to re-score and/or --set model=CKPT to retrain');
    let log = resolve(c.log);
    if (c.reward) {
      const out = ctx.path('rescored.arrows');
      await ctx.stage('rescore', () => ctx.warmup(['replay', log, '--reward', c.reward, '--advantage', c.advantage, '--out', out]));
      log = out;
    }
    if (c.model) {
      await ctx.stage('retrain', () =>
        ctx.warmup(['replay', log, '--train', '--model', resolve(c.model), '--advantage', c.advantage, '--out', ctx.path('retrained'), ...(c.lr > 0 ? ['--lr', String(c.lr)] : [])]),
      );
    }
  },
} satisfies Pipeline<Config>;
