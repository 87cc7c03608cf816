/** `warmup eval`: n samples per question from a checkpoint or a server, scored by the training rewards. */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { BENCH_NAMES, benchLayout, loadEvalSet, type BenchName } from '../eval/benchmarks.js';
import type { EvalSummary } from '../eval/run.js';
import type { BackendName } from '../model/names.js';
import type { ChatMessage } from '../util/chat.js';
import { backendOption, intOption, numberOption, printJson, repeatable } from './common.js';
import { Progress } from './progress.js';
import { addRewardOptions, rewardSpecsFromFlags } from './reward.js';

/** The evaluation sets that ship in data/eval (used when --data is not given). */
export const SHIPPED_EVAL: Partial<Record<BenchName, string>> = {
  kk: fileURLToPath(new URL('../../data/eval/kk.jsonl', import.meta.url)),
};

export interface EvalFlags {
  model?: string;
  adapter?: string;
  baseUrl: string[];
  servedModel?: string;
  bench: string;
  data?: string;
  n: number;
  temperature: number;
  topP: number;
  maxNewTokens: number;
  limit?: number;
  template?: string;
  seed: number;
  out?: string;
  workers?: number;
  timeout: number;
  /** Rewards instead of the set's own (`--reward`), their weights, and options (`--option r=json`, also for the set's own). */
  reward?: string[];
  weights?: number[];
  option?: string[];
  backend: BackendName | 'auto';
  json?: boolean;
  quiet?: boolean;
}

/** Runs one evaluation and writes OUT/samples.jsonl and OUT/summary.json; returns the summary. */
export async function runEval(flags: EvalFlags): Promise<EvalSummary> {
  const { evaluateModel, localModel, serverModel } = await import('../eval/run.js');
  const { RewardPool } = await import('../reward/pool.js');
  const isName = benchLayout(flags.bench) !== null;
  const path = flags.data ?? (isName ? SHIPPED_EVAL[flags.bench as BenchName] : flags.bench);
  if (!path) throw new Error(`--bench ${flags.bench}: give the file with --data (e.g. --data MATH-500/test.jsonl); only kk ships with warmup`);
  if (!existsSync(path)) throw new Error(`${path}: no such file`);
  // Chat-list prompts (verl rows) are rendered with the checkpoint's own chat template, as rlvr renders them.
  const chatTemplate = flags.model ? await (await import('../model/checkpoint.js')).readChatTemplate(flags.model) : null;
  const set = await loadEvalSet(path, isName ? flags.bench : undefined, { ...(flags.template ? { template: flags.template } : {}), ...(flags.limit ? { limit: flags.limit } : {}), ...(chatTemplate ? { chat: (m: readonly ChatMessage[]) => chatTemplate.render(m) } : {}) });
  // As in rlvr: --reward replaces the set's rewards, and --option configures either.
  const rewards = flags.reward?.length || flags.option?.length ? rewardSpecsFromFlags({ reward: flags.reward?.length ? flags.reward : set.rewards.map((r) => r.ref), option: flags.option ?? [], ...(flags.weights ? { weights: flags.weights } : {}) }) : set.rewards;
  if ((flags.model ? 1 : 0) + (flags.baseUrl.length > 0 ? 1 : 0) !== 1) throw new Error('give either --model CKPT or --base-url URL (with --served-model NAME)');
  let dispose = (): void => undefined;
  let model;
  if (flags.model) {
    const { describeBackend, selectBackend } = await import('../model/backend.js');
    const { loadCheckpoint } = await import('../model/checkpoint.js');
    const choice = await selectBackend(flags.backend);
    if (!flags.quiet && !flags.json) process.stderr.write(`${describeBackend(choice)}\n`);
    const loaded = await loadCheckpoint(flags.model, flags.adapter ? { adapter: flags.adapter } : {});
    // About 32 sequences per generation batch (prompts × n): batch 32 is where decoding on CPU pays off.
    model = localModel(loaded.model, loaded.tokenizer, flags.model, Math.max(1, Math.floor(32 / flags.n)));
    dispose = () => loaded.model.dispose();
  } else {
    if (!flags.servedModel) throw new Error('--base-url needs --served-model NAME (the model id the server expects)');
    const { OpenAITeacher } = await import('../teacher/openai.js');
    model = serverModel(new OpenAITeacher({ baseUrls: flags.baseUrl, model: flags.servedModel }), `${flags.servedModel}@${flags.baseUrl.join(',')}`);
  }
  const pool = new RewardPool({ limits: { timeoutMs: flags.timeout }, ...(flags.workers ? { size: flags.workers } : {}) });
  const progress = new Progress({ label: `eval ${set.bench}`, total: set.items.length, unit: 'questions', quiet: flags.quiet === true || flags.json === true });
  try {
    const { summary, samples } = await evaluateModel(
      set,
      model,
      (s, signal) => pool.score(s, rewards, { signal }),
      { n: flags.n, temperature: flags.temperature, topP: flags.topP, maxNewTokens: flags.maxNewTokens, seed: flags.seed, stop: set.stop },
      (done) => progress.update(done),
    );
    progress.finish(`accuracy ${(100 * summary.overall.mean).toFixed(1)} ± ${(100 * summary.overall.std).toFixed(1)}%`);
    if (flags.out) {
      await mkdir(flags.out, { recursive: true });
      await writeFile(join(flags.out, 'samples.jsonl'), samples.map((s) => JSON.stringify(s)).join('\n') + '\n');
      await writeFile(join(flags.out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
    }
    return summary;
  } finally {
    await pool.close();
    dispose();
  }
}

/** A text table of a summary. */
export function summaryTable(s: EvalSummary): string {
  const pct = (x: number): string => (100 * x).toFixed(1).padStart(5);
  const line = (name: string, a: EvalSummary['overall']): string =>
    `${name.padEnd(28)} ${String(a.items).padStart(5)}  ${pct(a.mean)} [${pct(a.ci95[0])}, ${pct(a.ci95[1])}]  ± ${pct(a.std)}  ${Object.entries(a.passAtK).map(([k, v]) => `${k} ${pct(v)}`).join('  ')}`;
  return [
    `${s.bench} (${s.source}), ${s.model}, n=${s.n}, T=${s.temperature}; answers that parse: ${(100 * s.format).toFixed(1)}%`,
    `${'subset'.padEnd(28)} ${'items'.padStart(5)}  accuracy % [95% interval over questions]  ± std across samples`,
    line('all', s.overall),
    ...Object.entries(s.bySubset).map(([k, a]) => line(k, a)),
  ].join('\n');
}

export function evalCommand(): Command {
  return addRewardOptions(new Command('eval'), "default: the set's own, as rlvr scores it")
    .description('evaluate a checkpoint or an OpenAI-compatible server: n samples per question, scored by the training rewards; accuracy mean ± std across samples, pass@k, by subset')
    .option('--model <dir>', 'checkpoint folder (ours, a Hugging Face Qwen2/Qwen3/Llama/Mistral folder, or a LoRA adapter folder)')
    .option('--adapter <dir>', 'LoRA adapter folder (PEFT layout) to apply to --model')
    .option('--base-url <url>', 'OpenAI-compatible server instead of --model; repeatable', repeatable, [] as string[])
    .option('--served-model <name>', 'model name on the server')
    .requiredOption('--bench <name|file>', `${BENCH_NAMES.join(' | ')} | FILE (the benchmark is read from its columns)`)
    .option('--data <file>', 'the benchmark file (default for kk: the set shipped in data/eval)')
    .option('--n <k>', 'samples per question', intOption('--n', 1), 4)
    .option('--temperature <t>', 'sampling temperature', numberOption('--temperature', 0), 0.7)
    .option('--top-p <p>', 'nucleus mass', numberOption('--top-p', 0, 1), 0.95)
    .option('--max-new-tokens <n>', 'completion budget', intOption('--max-new-tokens', 1), 1024)
    .option('--limit <n>', 'first N questions only', intOption('--limit', 1))
    .option('--template <ref>', 'prompt template with {quiz} (default: the bench’s own R1-style prompt)')
    .option('--seed <n>', 'sampling seed', intOption('--seed', 0, 0xffffffff), 0)
    .option('--out <dir>', 'write samples.jsonl and summary.json here')
    .option('--workers <n>', 'reward sandbox workers (default: one per core)', intOption('--workers', 1, 256))
    .option('--timeout <ms>', 'time limit per code check', intOption('--timeout', 1), 3000)
    .addOption(backendOption())
    .option('--json', 'print the summary as JSON')
    .option('--quiet', 'no progress output')
    .action(async (flags: EvalFlags) => {
      const summary = await runEval(flags);
      if (flags.json) printJson(summary);
      else process.stdout.write(`${summaryTable(summary)}\n${flags.out ? `samples and summary: ${flags.out}\n` : ''}`);
    });
}
