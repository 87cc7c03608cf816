/**
 * Stage two alone: a checkpoint + a target set (≤ 100 examples) → GRPO → checkpoint,
 * then an evaluation of the result.
 *
 *   warmup run pipelines/rlvr.ts --set model=runs/warmup-default/warm [--set target=FILE --set reward=math …]
 *
 * A 0 in an RL setting leaves it to `warmup rlvr`, whose defaults are the RL config's
 * (src/stages/rlvr-config.ts, with a reason for each; `warmup rlvr --help` lists them).
 * `paper` is those defaults, the paper's RL settings (group size 10, temperature 0.7, no
 * KL, Dr. GRPO, 100 examples × 25 epochs, the learning rate scaled from 1e-6 to the
 * model's width), with a longer completion budget.
 */
import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Pipeline } from 'warmup';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

type Config = {
  model: string;
  target: string;
  reward: string;
  /** 0: as many steps as `epochs` passes over the target set need. */
  steps: number;
  /** epochs, groupSize, promptsPerStep, temperature: 0 is the RL config's default. */
  epochs: number;
  groupSize: number;
  promptsPerStep: number;
  /** 0: the paper's 1e-6 scaled to the model's width (the RL config's default). */
  lr: number;
  temperature: number;
  /** Completion budget, in training and evaluation alike. */
  maxNewTokens: number;
  dynamicSampling: boolean;
  evalSet: string;
  evalN: number;
  seed: number;
};

// The embedded CPU run: few short steps, small groups, a learning rate for the tiny student.
const embedded: Config = { model: '', target: 'data/target/kk.jsonl', reward: 'kk', steps: 12, epochs: 0, groupSize: 6, promptsPerStep: 0, lr: 2e-5, temperature: 0, maxNewTokens: 160, dynamicSampling: false, evalSet: 'data/eval/kk.jsonl', evalN: 4, seed: 0 };

export default {
  name: 'rlvr',
  description: 'checkpoint + target set → GRPO → checkpoint → evaluation',
  presets: {
    default: embedded,
    paper: { ...embedded, steps: 0, groupSize: 0, lr: 0, maxNewTokens: 4096 },
  },
  async run(ctx) {
    const c = ctx.config;
    if (!c.model) throw new Error('set the starting checkpoint: --set model=DIR (e.g. runs/warmup-default/warm)');
    const at = (p: string): string => resolve(ROOT, p);
    const p = ctx.path.bind(ctx);
    /** `name value`, unless the value is 0 (then `warmup rlvr` takes the RL config's default). */
    const flag = (name: string, value: number): string[] => (value > 0 ? [name, String(value)] : []);
    await ctx.stage('rlvr', () =>
      ctx.warmup([
        'rlvr', '--model', resolve(c.model), '--data', at(c.target), '--reward', c.reward, '--out', p('rl'),
        ...(c.steps > 0 ? ['--steps', String(c.steps)] : flag('--epochs', c.epochs)),
        ...flag('--group-size', c.groupSize), ...flag('--prompts-per-step', c.promptsPerStep), ...flag('--temperature', c.temperature),
        '--max-new-tokens', String(c.maxNewTokens), '--seed', String(c.seed),
        ...flag('--lr', c.lr),
        ...(c.dynamicSampling ? ['--dynamic-sampling'] : []),
        ...(existsSync(p('rl', 'rollouts.arrows')) ? ['--resume'] : []),
      ]),
    );
    const set = basename(c.evalSet).replace(/\.(jsonl|parquet|arrow)(\.gz)?$/, '');
    await ctx.stage(`eval-rl-${set}`, () => ctx.warmup(['eval', '--model', p('rl', 'last'), '--bench', at(c.evalSet), '--n', String(c.evalN), '--max-new-tokens', String(c.maxNewTokens), '--out', p('eval', 'rl', set), '--quiet']));
    await ctx.warmup(['report', ctx.dir]);
  },
} satisfies Pipeline<Config>;
