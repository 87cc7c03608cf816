/**
 * `warmup rlvr` (GRPO on a small target set, streaming, resumable) and `warmup replay`
 * (re-score a rollouts log, or train offline from it).
 *
 * The run folder's layout and resume rules are in src/stages/rl-run-folder.ts.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { readArrowSchema } from '../data/ipc.js';
import { configOf, METRICS, ROLLOUTS, withRunMetadata, type MetricRecord, type RolloutRecord } from '../data/schemas.js';
import type { BackendName } from '../model/names.js';
import type { ChatMessage } from '../util/chat.js';
import type { RewardSpec } from '../reward/registry.js';
import type { RewardSample } from '../reward/types.js';
import type { RescoreSummary } from '../stages/replay.js';
import type { RLVRStep } from '../stages/rlvr.js';
import { checkResumeConfig, loggedAfter, resumePoint, rlRunPaths, stepCheckpointDir, stepMetricRows } from '../stages/rl-run-folder.js';
import { checkRLVRConfig, DEFAULT_RLVR, RLVR_RUN_SETTINGS, RLVR_SETTINGS, scaledRlLr, type RLVRConfig, type Setting } from '../stages/rlvr-config.js';
import { loadTasks, taskRewardSpecs, type Task } from '../tasks/tasks.js';
import { ADVANTAGE_KINDS, AGGREGATIONS, type AdvantageKind, type Aggregation } from '../train/grpo.js';
import { attachLoraFromFlags, backendOption, intOption, type LoraFlags, loraOptions, numberOption, printJson, repeatable, runInterruptible, setExitCode, trainingMemoryLine } from './common.js';
import { Progress } from './progress.js';
import { addRewardOptions, rewardSpecsFromFlags } from './reward.js';

/** Flags shared by rlvr and replay --train. */
interface LearnerFlags {
  lr?: number;
  advantage: AdvantageKind;
  clipLow: number;
  clipHigh: number;
  aggregation: Aggregation;
  beta: number;
  mu: number;
  microBatch: number;
  overlong: 'none' | 'mask' | 'soft';
  dynamicSampling?: boolean;
  backend: BackendName | 'auto';
  workers?: number;
  timeout: number;
  quiet?: boolean;
}

const show = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

/** An option whose default comes from the RL config, its help saying the default and the reason for it. */
function settingOption(flags: string, description: string, setting: Setting<unknown>, parse?: ((text: string) => unknown) | ((text: string, previous: string[]) => string[])): Option {
  const option = new Option(flags, description).default(setting.value, `${show(setting.value)}, ${setting.why}`);
  return parse ? option.argParser(parse as (text: string, previous: unknown) => unknown) : option;
}

const S = RLVR_SETTINGS;

function addLearnerOptions(cmd: Command): Command {
  return cmd
    .option('--lr <x>', `peak learning rate (default: ${S.lr.why})`, numberOption('--lr', 0))
    .addOption(settingOption('--advantage <kind>', 'group advantage: dr-grpo (mean only), grpo (mean/std), rloo', S.advantage).choices([...ADVANTAGE_KINDS]))
    .addOption(settingOption('--clip-low <e>', 'PPO clip range below 1', S.clipLow, numberOption('--clip-low', 0, 0.999)))
    .addOption(settingOption('--clip-high <e>', 'PPO clip range above 1 (clip-higher, as DAPO)', S.clipHigh, numberOption('--clip-high', 0)))
    .addOption(settingOption('--aggregation <how>', 'loss average over the batch', S.aggregation).choices([...AGGREGATIONS]))
    .addOption(settingOption('--beta <b>', 'KL coefficient against the starting model (0: no KL and no reference in memory)', S.beta, numberOption('--beta', 0)))
    .addOption(settingOption('--mu <n>', 'optimiser steps per batch', S.mu, intOption('--mu', 1)))
    .addOption(settingOption('--micro-batch <n>', 'completions per forward/backward pass (memory only)', S.microBatch, intOption('--micro-batch', 1)))
    .addOption(settingOption('--overlong <how>', 'completions cut at --max-new-tokens: mask (no loss), soft (DAPO penalty), none', S.overlong).choices(['mask', 'soft', 'none']))
    .addOption(settingOption('--dynamic-sampling', 'drop groups whose rewards are all equal and refill the batch (DAPO)', S.dynamicSampling))
    .addOption(backendOption())
    .option('--workers <n>', 'reward sandbox workers (default: one per core)', intOption('--workers', 1, 256))
    .option('--timeout <ms>', 'time limit per code check', intOption('--timeout', 1), 3000)
    .option('--quiet', 'no progress output');
}

/** The options of `warmup rlvr`, as commander parses them. */
export interface RlvrFlags extends LearnerFlags, LoraFlags {
  model: string;
  data: string;
  reward: string[];
  weights?: number[];
  option: string[];
  out: string;
  template?: string;
  maxExamples: number;
  epochs: number;
  steps?: number;
  groupSize: number;
  promptsPerStep: number;
  temperature: number;
  topP: number;
  topK: number;
  maxNewTokens: number;
  stop: string[];
  overlongCache: number;
  maxStaleness: number;
  chunkPrompts?: number;
  saveEvery: number;
  seed: number;
  resume?: boolean;
}

/**
 * Reads target examples through the task loader `warmup eval` uses (`src/tasks/`), so a
 * row gets the same prompt in training as in evaluation.
 */
export async function loadRLExamples(path: string, options: { template?: string; maxExamples?: number; chat?: (messages: readonly ChatMessage[]) => string } = {}): Promise<{ examples: Task[]; total: number }> {
  const { tasks, total } = await loadTasks(path, { ...(options.template ? { template: options.template } : {}), ...(options.maxExamples !== undefined ? { limit: options.maxExamples } : {}), ...(options.chat ? { chat: options.chat } : {}) });
  return { examples: tasks, total };
}

/** The RL config a command line asks for, over `examples` target rows and a model `hiddenSize` wide. */
export function rlvrConfigFromFlags(flags: RlvrFlags, run: { examples: number; hiddenSize: number }): RLVRConfig {
  return checkRLVRConfig({
    ...DEFAULT_RLVR,
    groupSize: flags.groupSize,
    promptsPerStep: flags.promptsPerStep,
    steps: flags.steps ?? Math.ceil((flags.epochs * run.examples) / flags.promptsPerStep),
    temperature: flags.temperature,
    topP: flags.topP,
    topK: flags.topK,
    maxNewTokens: flags.maxNewTokens,
    stop: flags.stop,
    advantage: flags.advantage,
    clipLow: flags.clipLow,
    clipHigh: flags.clipHigh,
    aggregation: flags.aggregation,
    beta: flags.beta,
    mu: flags.mu,
    dynamicSampling: flags.dynamicSampling === true,
    overlong: flags.overlong,
    overlongCache: Math.min(flags.overlongCache, flags.maxNewTokens - 1),
    lr: flags.lr ?? scaledRlLr(run.hiddenSize),
    microBatch: flags.microBatch,
    maxStaleness: flags.maxStaleness,
    chunkPrompts: Math.min(flags.chunkPrompts ?? flags.promptsPerStep, flags.promptsPerStep),
    saveEvery: flags.saveEvery,
    seed: flags.seed,
  });
}

/** Entropy for a progress line: a dash when no row was run (nothing to learn). */
const fmtEntropy = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : '–');

const progressLine = (s: RLVRStep): string =>
  `reward ${s.rewardMean.toFixed(3)}  pass ${(100 * s.passRate).toFixed(0)}%  kl ${s.kl.toFixed(4)}  clip ${s.clipFraction.toFixed(3)}  ent ${fmtEntropy(s.entropy)}  ${s.rolloutsPerSec.toFixed(1)} rollouts/s  pool ${(100 * s.poolUtil).toFixed(0)}%${s.replayed ? '  (from log)' : ''}`;

/** Everything a run needs, from the command line and the run folder: examples, rewards, model, learner, pool and open logs. */
async function openRlRun(flags: RlvrFlags, log: (line: string) => void) {
  const { describeBackend, selectBackend } = await import('../model/backend.js');
  const { loadCheckpoint, readChatTemplate } = await import('../model/checkpoint.js');
  const { PolicyLearner } = await import('../train/policy.js');
  const { RewardPool } = await import('../reward/pool.js');
  // Chat-list prompts (verl rows) are rendered with the model's own chat template, as eval renders them.
  const template = await readChatTemplate(flags.model);
  const { examples, total } = await loadRLExamples(flags.data, { ...(flags.template ? { template: flags.template } : {}), maxExamples: flags.maxExamples, ...(template ? { chat: (m: readonly ChatMessage[]) => template.render(m) } : {}) });
  if (total > examples.length) log(`using the first ${examples.length} of ${total} rows of ${flags.data} (--max-examples ${flags.maxExamples})`);
  // Without --reward, the reward the rows' layout names (kk for K&K rows, math for MATH rows, …).
  const rewards = flags.reward.length > 0 ? flags.reward : (taskRewardSpecs(examples) ?? []).map((s) => s.ref);
  if (rewards.length === 0) throw new Error(`give at least one --reward (kk, math, mc, code or a module path): the rows of ${flags.data} (layout '${examples[0]?.layout ?? '?'}') name no built-in reward`);
  const specs = rewardSpecsFromFlags({ ...flags, reward: rewards });
  const choice = await selectBackend(flags.backend);
  log(describeBackend(choice));
  await mkdir(flags.out, { recursive: true });
  const paths = rlRunPaths(flags.out);
  const resumeFrom = await resumePoint(flags.out, flags.resume === true);
  const loaded = await loadCheckpoint(resumeFrom?.dir ?? flags.model);
  const { model, tokenizer } = loaded;
  // A checkpoint of this run already holds its adapter; a fresh start (or a restart from the log) attaches one.
  const lora = resumeFrom?.dir ? null : await attachLoraFromFlags(model, flags.model, flags, flags.seed);
  if (lora) log(lora);
  // Encoded once: the memory check reads the longest, the RL stage reuses them.
  const promptIds = new Map(examples.map((e) => [e.prompt, tokenizer.encode(e.prompt)]));
  const longestPrompt = [...promptIds.values()].reduce((n, ids) => Math.max(n, ids.length), 0);
  log(trainingMemoryLine('rlvr', model, choice.tfBackend, longestPrompt + flags.maxNewTokens));
  const config = rlvrConfigFromFlags(flags, { examples: examples.length, hiddenSize: model.config.hiddenSize });
  const runId = `rlvr-${flags.seed}`;
  const runConfig = { command: 'rlvr', model: flags.model, data: flags.data, examples: examples.length, rewards: specs, runId, config };
  if (resumeFrom) {
    await checkResumeConfig(flags.out, { ...config, data: flags.data, rewards: specs }, ['steps']);
    log(`resuming ${flags.out} from ${resumeFrom.dir ?? `${flags.model} and the log`} (step ${resumeFrom.step})`);
  }
  await writeFile(paths.config, `${JSON.stringify(runConfig, null, 2)}\n`);
  const reference = config.beta > 0 ? (await loadCheckpoint(flags.model)).model : null;
  const learner = new PolicyLearner(model, config, reference, tokenizer.pad);
  if (resumeFrom?.dir) {
    if (!loaded.optimizer) throw new Error(`--resume: ${resumeFrom.dir} has no optimizer state`);
    learner.optimizer.load(loaded.optimizer, resumeFrom.step);
  }
  const pool = new RewardPool({ limits: { timeoutMs: flags.timeout }, ...(flags.workers ? { size: flags.workers } : {}) });
  const rolloutSchema = withRunMetadata(ROLLOUTS, runConfig);
  const metricSchema = withRunMetadata(METRICS, runConfig);
  // Steps logged after the checkpoint are trained from the log; read them before appending.
  const { steps: loggedSteps, metricsDone } = resumeFrom ? await loggedAfter(flags.out, resumeFrom.step) : { steps: [], metricsDone: 0 };
  const { openArrowLog } = await import('../stages/arrow-log.js');
  // The stage awaits each step's rows before its checkpoint: a flush per step (flushMs 0).
  const rollouts = await openArrowLog<RolloutRecord>(paths.rollouts, rolloutSchema, { append: flags.resume === true, flushMs: 0 });
  // Flushed as each step's rows arrive, so the log keeps up with the checkpoints.
  const metrics = await openArrowLog<MetricRecord>(paths.metrics, metricSchema, { append: flags.resume === true, flushMs: 0 });
  if (rollouts.droppedBytes > 0) log(`dropped a torn last batch (${rollouts.droppedBytes} bytes) of ${paths.rollouts}: that step is sampled again`);
  return { examples, promptIds, specs, paths, resumeFrom, model, tokenizer, config, runId, learner, reference, pool, rolloutSchema, metricSchema, loggedSteps, metricsDone, rollouts, metrics };
}

async function rlvrCmd(flags: RlvrFlags): Promise<void> {
  const log = (line: string): void => {
    if (!flags.quiet) process.stderr.write(`${line}\n`);
  };
  const { saveCheckpoint } = await import('../model/checkpoint.js');
  const { rlvr } = await import('../stages/rlvr.js');
  const { examples, promptIds, specs, paths, resumeFrom, model, tokenizer, config, runId, learner, reference, pool, loggedSteps, metricsDone, rollouts, metrics } = await openRlRun(flags, log);
  const progress = new Progress({ label: 'rlvr', total: config.steps, unit: 'steps', quiet: flags.quiet === true, initial: resumeFrom?.step ?? 0 });
  let state = { step: resumeFrom?.step ?? 0, cursor: resumeFrom?.cursor ?? 0 };
  const save = async (dir: string): Promise<void> => {
    await saveCheckpoint(dir, model, tokenizer, { optimizer: learner.optimizer.state(), trainerState: { ...state, runId } });
  };
  let interrupted: boolean | undefined;
  let last: RLVRStep | null = null;
  const warned = { n: 0 };
  let flat = 0;
  try {
    await pool.warmup(specs.some((s) => s.ref === 'code') ? ['python', 'javascript'] : []);
    log(`${examples.length} examples, ${config.steps} steps of ${config.promptsPerStep} prompts × ${config.groupSize} completions; lr ${config.lr.toExponential(2)}; rewards: ${specs.map((s) => s.ref).join(', ')}`);
    const steps$ = rlvr({
      learner,
      tokenizer,
      examples,
      promptIds,
      config,
      score: (sample: RewardSample, signal: AbortSignal) => pool.score(sample, specs, { signal }),
      poolSize: pool.size,
      poolWorkMs: () => pool.stats.busyMs,
      runId,
      start: state,
      logged: loggedSteps,
      writeRollouts: (rows) => rollouts.write(rows),
      checkpoint: async (s) => {
        state = s;
        await save(stepCheckpointDir(flags.out, s.step));
      },
      warn: (m) => {
        if (warned.n++ < 20) log(`warning: ${m}`);
      },
    });
    ({ interrupted } = await runInterruptible(steps$, (s) => {
      last = s;
      state = { step: s.step, cursor: s.cursor };
      if (s.step > metricsDone) {
        const rows = stepMetricRows(runId, s);
        metrics.push(rows);
      }
      progress.update(s.step, progressLine(s));
      flat = s.signal === 0 ? flat + 1 : 0;
      if (flat === 3) {
        log(`warning: no learning signal for 3 steps: in every group all completions got the same reward (${s.rewardMean.toFixed(3)}; pass ${(100 * s.passRate).toFixed(0)}%), so the policy does not move. Check the reward, the prompt template and --max-new-tokens.`);
      }
    }, 'stopping the batch in flight, flushing logs and writing a checkpoint'));
  } finally {
    await rollouts.close();
    await metrics.close();
    await pool.close();
  }
  await save(paths.last);
  learner.dispose();
  reference?.dispose();
  model.dispose();
  const done = last as RLVRStep | null;
  progress.finish(done ? progressLine(done) : '');
  log(`${interrupted === true ? 'stopped' : 'done'} at step ${state.step}/${config.steps}: checkpoint ${paths.last}, rollouts ${paths.rollouts}, metrics ${paths.metrics}${interrupted === true ? ' (continue with --resume)' : ''}`);
  if (interrupted === true) setExitCode(130);
}

interface ReplayFlags extends LearnerFlags {
  reward: string[];
  weights?: number[];
  option: string[];
  out?: string;
  train?: boolean;
  model?: string;
  temperature?: number;
  json?: boolean;
}

/** `replay --reward` without --train: the log re-scored, with recomputed advantages, to a new rollouts file. */
async function writeRescored(
  file: string,
  flags: ReplayFlags,
  run: { specs: RewardSpec[]; logConfig: unknown; rescored: (rows: RolloutRecord[]) => Promise<RolloutRecord[]>; summary: RescoreSummary; progress: Progress },
): Promise<void> {
  const { readLoggedSteps } = await import('../stages/replay.js');
  const { recomputeAdvantages } = await import('../train/rollout-log.js');
  const { specs, logConfig, rescored, summary, progress } = run;
  let steps = 0;
  const outSchema = withRunMetadata(ROLLOUTS, { command: 'replay', source: file, rewards: specs, advantage: flags.advantage, source_config: logConfig });
  const { concatMap, from, lastValueFrom, mergeMap, tap } = await import('rxjs');
  const { writeArrowStream } = await import('../stages/io.js');
  await lastValueFrom(
    from(readLoggedSteps(file)).pipe(
      concatMap(async (rows) => recomputeAdvantages(await rescored(rows), flags.advantage, flags.dynamicSampling === true)),
      tap(() => progress.update(++steps, `${summary.rows} rollouts, ${summary.changed} changed`)),
      mergeMap((rows) => rows),
      writeArrowStream<RolloutRecord>(flags.out as string, outSchema),
    ),
  );
  progress.finish(`-> ${flags.out}`);
  const result = { file, out: flags.out as string, steps, ...summary.toJSON() };
  if (flags.json) printJson(result);
  else {
    const j = summary.toJSON();
    process.stdout.write(`${summary.rows} rollouts in ${steps} steps re-scored with ${specs.map((s) => s.ref).join(', ')} -> ${flags.out}\n`);
    process.stdout.write(`mean reward ${String(j.mean_reward_before)} -> ${String(j.mean_reward_after)}; ${summary.changed} rollouts changed\n\n${summary.table()}\n`);
  }
}

async function replayCmd(file: string, flags: ReplayFlags): Promise<void> {
  const { readLoggedSteps, rescoreStep, RescoreSummary } = await import('../stages/replay.js');
  const { policyRowsFromLog, recomputeAdvantages } = await import('../train/rollout-log.js');
  const { RewardPool } = await import('../reward/pool.js');
  const rescore = flags.reward.length > 0;
  if (!rescore && !flags.train) throw new Error('replay needs --reward (re-score) and/or --train (train offline from the log)');
  if (!flags.out) throw new Error(flags.train ? '--out DIR: where to write the trained checkpoint' : '--out FILE.arrows: where to write the re-scored rollouts');
  if (flags.train && !flags.model) throw new Error('--train needs --model CKPT (the policy to train)');
  const specs = rescore ? rewardSpecsFromFlags(flags) : [];
  const schema = /\.arrows?$/.test(file) ? await readArrowSchema(file) : null;
  const logConfig = ((schema ? configOf(schema) : null) ?? {}) as { config?: Partial<RLVRConfig> };
  const log = (line: string): void => {
    if (!flags.quiet && !flags.json) process.stderr.write(`${line}\n`);
  };
  const pool = rescore ? new RewardPool({ limits: { timeoutMs: flags.timeout }, ...(flags.workers ? { size: flags.workers } : {}) }) : null;
  const summary = new RescoreSummary();
  /** A step's rows with the new rewards, counted into the summary. */
  const rescored = async (rows: RolloutRecord[]): Promise<RolloutRecord[]> => {
    const p = pool as InstanceType<typeof RewardPool>;
    const scored = await rescoreStep(rows, (s: RewardSample, signal: AbortSignal) => p.score(s, specs, { signal }), p.size * 4);
    scored.forEach((s, i) => summary.add(rows[i] as RolloutRecord, s.record));
    return scored.map((s) => s.record);
  };
  const progress = new Progress({ label: flags.train ? 'replay-train' : 'rescore', unit: 'steps', quiet: flags.quiet === true || flags.json === true });
  let steps = 0;
  try {
    if (!flags.train) return await writeRescored(file, flags, { specs, logConfig, rescored, summary, progress });
    const { describeBackend, selectBackend } = await import('../model/backend.js');
    const { loadCheckpoint, saveCheckpoint } = await import('../model/checkpoint.js');
    const { PolicyLearner } = await import('../train/policy.js');
    const choice = await selectBackend(flags.backend);
    log(describeBackend(choice));
    const { model, tokenizer } = await loadCheckpoint(flags.model as string);
    const temperature = flags.temperature ?? logConfig.config?.temperature ?? DEFAULT_RLVR.temperature;
    const config = { ...DEFAULT_RLVR, lr: flags.lr ?? scaledRlLr(model.config.hiddenSize), clipLow: flags.clipLow, clipHigh: flags.clipHigh, aggregation: flags.aggregation, beta: flags.beta, mu: flags.mu, microBatch: flags.microBatch, temperature };
    const reference = config.beta > 0 ? (await loadCheckpoint(flags.model as string)).model : null;
    const learner = new PolicyLearner(model, config, reference, tokenizer.pad);
    log(`training ${flags.model} from ${file} (temperature ${temperature}, lr ${config.lr.toExponential(2)}, advantages ${flags.advantage}${rescore ? `, re-scored with ${specs.map((s) => s.ref).join(', ')}` : ''})`);
    const promptIds = new Map<string, number[]>();
    let lossSum = 0;
    try {
      for await (const logged of readLoggedSteps(file)) {
        const rows = rescore ? await rescored(logged) : logged;
        const policyRows = policyRowsFromLog(recomputeAdvantages(rows, flags.advantage, flags.dynamicSampling === true), tokenizer, flags.overlong, promptIds);
        if (policyRows.length === 0) continue;
        const stats = learner.update(policyRows, config.lr);
        lossSum += stats.loss;
        progress.update(++steps, `loss ${stats.loss.toFixed(4)}  clip ${stats.clipFraction.toFixed(3)}  ent ${fmtEntropy(stats.entropy)}`);
      }
      await saveCheckpoint(flags.out, model, tokenizer, { optimizer: learner.optimizer.state(), trainerState: { step: steps, cursor: 0, source: file } });
    } finally {
      learner.dispose();
      reference?.dispose();
      model.dispose();
    }
    progress.finish(`-> ${flags.out}`);
    const result = { file, out: flags.out, steps, mean_loss: steps ? lossSum / steps : null, ...(rescore ? summary.toJSON() : {}) };
    if (flags.json) printJson(result);
    else process.stdout.write(`trained ${steps} steps from ${file} -> ${flags.out}\n`);
  } finally {
    await pool?.close();
  }
}

export function rlvrCommands(): Command[] {
  const rlvrCommand = addLearnerOptions(
    addRewardOptions(
      loraOptions(new Command('rlvr'))
        .description('RLVR: GRPO with verifiable rewards on a small target set (≤100 examples), streaming rollouts through the reward sandbox')
        .requiredOption('--model <dir>', 'starting checkpoint (e.g. the warmed-up student)')
        .requiredOption('--data <file>', "target examples in any layout `warmup eval` reads (K&K 'quiz', MATH 'problem', HumanEval, MMLU-Pro), or a ready 'prompt' or bare 'question'; without --reward, the layout's own reward scores them")
        .requiredOption('--out <dir>', 'run folder: config.json, rollouts.arrows, metrics.arrows, checkpoints/, last/'),
    ),
  )
    .option('--template <ref>', "prompt template with {quiz} for every row: r1, logic-rl or a file (default: the layout's own, as `warmup eval` uses)")
    .addOption(settingOption('--max-examples <n>', 'use at most this many rows', RLVR_RUN_SETTINGS.maxExamples, intOption('--max-examples', 1)))
    .addOption(settingOption('--epochs <n>', 'passes over the examples (steps = epochs × examples / prompts-per-step)', RLVR_RUN_SETTINGS.epochs, intOption('--epochs', 1)))
    .option('--steps <n>', 'updates to run (overrides --epochs)', intOption('--steps', 1))
    .addOption(settingOption('--group-size <g>', 'completions per prompt', S.groupSize, intOption('--group-size', 1)))
    .addOption(settingOption('--prompts-per-step <n>', 'groups per update', S.promptsPerStep, intOption('--prompts-per-step', 1)))
    .addOption(settingOption('--temperature <t>', 'sampling temperature', S.temperature, numberOption('--temperature', 1e-6)))
    .addOption(settingOption('--top-p <p>', 'nucleus mass', S.topP, numberOption('--top-p', 0, 1)))
    .addOption(settingOption('--top-k <k>', 'candidates kept; 0 is all', S.topK, intOption('--top-k', 0)))
    .addOption(settingOption('--max-new-tokens <n>', 'completion budget', S.maxNewTokens, intOption('--max-new-tokens', 1)))
    .addOption(settingOption('--stop <text>', 'stop string; repeatable', S.stop, repeatable))
    .addOption(settingOption('--overlong-cache <n>', 'soft overlong: tokens before the budget where the penalty starts', S.overlongCache, intOption('--overlong-cache', 0)))
    .addOption(settingOption('--max-staleness <s>', 'policy versions a rollout may lag (0: strictly on-policy; 1: generate the next batch during verification and update)', S.maxStaleness, intOption('--max-staleness', 0)))
    .option('--chunk-prompts <n>', `prompts per generation call; smaller overlaps generation with scoring but batches less (default: ${S.chunkPrompts.why})`, intOption('--chunk-prompts', 1))
    .addOption(settingOption('--save-every <n>', 'also keep a checkpoint every N steps in checkpoints/ (0: none; last/ is always written)', S.saveEvery, intOption('--save-every', 0)))
    .addOption(settingOption('--seed <n>', 'seed of the prompt order and sampling', S.seed, intOption('--seed', 0, 0xffffffff)))
    .option('--resume', 'continue the run in --out from its newest checkpoint (same data order, RNG and optimizer state)')
    .action((flags: RlvrFlags) => rlvrCmd(flags));
  const replayCommand = addLearnerOptions(
    addRewardOptions(
      new Command('replay')
        .description('re-score a rollouts log with other rewards (--reward …), and/or train a checkpoint offline from it (--train), using the logged log-probs as the behaviour policy')
        .argument('<rollouts>', 'a rollouts log (run/rollouts.arrows)')
        .option('--out <path>', 're-scored rollouts (.arrows) or, with --train, the trained checkpoint folder'),
      're-scores',
    ),
  )
    .option('--train', 'train --model from the logged rollouts')
    .option('--model <dir>', 'checkpoint to train (with --train)')
    .option('--temperature <t>', "temperature the log was sampled at (default: the log's own config)", numberOption('--temperature', 1e-6))
    .option('--json', 'print the summary as JSON')
    .action((file: string, flags: ReplayFlags) => replayCmd(file, flags));
  return [rlvrCommand, replayCommand];
}
