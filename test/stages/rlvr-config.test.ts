// The RL config has one set of defaults: the stage's DEFAULT_RLVR, and what `warmup rlvr`
// and `warmup replay` run with when no flag is given, are the same values.
import { describe, expect, it } from 'vitest';
import { rlvrCommands, rlvrConfigFromFlags, type RlvrFlags } from '../../src/cli/rlvr.js';
import { makeMetricRecords } from '../../src/data/schemas.js';
import { checkRLVRConfig, DEFAULT_RLVR, PAPER_RL_LR, RLVR_RUN_SETTINGS, RLVR_SETTINGS } from '../../src/stages/rlvr-config.js';
import { changedKeys } from '../../src/util/config-diff.js';

/** The options a command holds before any flag is parsed: its defaults. */
const defaultsOf = (name: string): Record<string, unknown> => {
  const cmd = rlvrCommands().find((c) => c.name() === name);
  if (!cmd) throw new Error(`no command ${name}`);
  return cmd.opts();
};

describe('RL config defaults', () => {
  it('gives every setting a value and a reason, and the values pass the check', () => {
    for (const [key, s] of Object.entries({ ...RLVR_SETTINGS, ...RLVR_RUN_SETTINGS })) expect(s.why.length, key).toBeGreaterThan(10);
    expect(Object.keys(DEFAULT_RLVR)).toEqual(Object.keys(RLVR_SETTINGS));
    expect(checkRLVRConfig(DEFAULT_RLVR)).toBe(DEFAULT_RLVR);
    // steps is the run settings' examples × epochs over prompts per step.
    expect(DEFAULT_RLVR.steps).toBe(Math.ceil((RLVR_RUN_SETTINGS.maxExamples.value * RLVR_RUN_SETTINGS.epochs.value) / DEFAULT_RLVR.promptsPerStep));
    // Periodic checkpoints to resume from, in the stage as in the CLI.
    expect(DEFAULT_RLVR.saveEvery).toBe(10);
  });

  it('`warmup rlvr` with no flags runs the module defaults (the paper-width model, a full target set)', () => {
    const flags = defaultsOf('rlvr') as unknown as RlvrFlags;
    expect(flags).toMatchObject({ maxExamples: 100, epochs: 25, saveEvery: DEFAULT_RLVR.saveEvery });
    const config = rlvrConfigFromFlags(flags, { examples: flags.maxExamples, hiddenSize: 2048 });
    expect(config).toEqual(DEFAULT_RLVR);
    expect(config.lr).toBe(PAPER_RL_LR);
  });

  it('`warmup replay` learner options default to the module too', () => {
    const flags = defaultsOf('replay');
    for (const key of ['advantage', 'clipLow', 'clipHigh', 'aggregation', 'beta', 'mu', 'microBatch', 'overlong', 'dynamicSampling'] as const) {
      expect(flags[key], key).toEqual(DEFAULT_RLVR[key]);
    }
  });

  it('shows each default with its reason in the help', () => {
    const help = rlvrCommands()[0]?.helpInformation().replace(/\s+/g, ' ') ?? '';
    expect(help).toContain(`(default: 10, ${RLVR_SETTINGS.groupSize.why})`);
    expect(help).toContain(`(default: 10, ${RLVR_SETTINGS.saveEvery.why})`);
  });
});

describe('run bookkeeping helpers', () => {
  it('lists the settings a resume would change, in the current order, leaving out the allowed ones', () => {
    expect(changedKeys({ a: 1, b: [1, 2], c: 'x', steps: 5 }, { steps: 9, c: 'y', b: [1, 2], a: 2, d: null })).toEqual(['steps', 'c', 'a', 'd']);
    expect(changedKeys({ a: 1, steps: 5 }, { a: 1, steps: 9 }, ['steps'])).toEqual([]);
  });

  it('makes one metric row per finite value', () => {
    expect(makeMetricRecords('r', 3, { loss: 0.5, entropy: Number.NaN, eval_loss: undefined, lr: 1e-3 }, 7)).toEqual([
      { run_id: 'r', step: 3, name: 'loss', value: 0.5, wall_time: 7 },
      { run_id: 'r', step: 3, name: 'lr', value: 1e-3, wall_time: 7 },
    ]);
  });
});
