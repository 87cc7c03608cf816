/** `warmup eval-code` and `warmup verify`: score datasets with the reward pool. */
import { createWriteStream } from 'node:fs';
import { rename } from 'node:fs/promises';
import { once } from 'node:events';
import { Command, Option } from 'commander';
import { lastValueFrom, tap } from 'rxjs';
import { readRows } from '../data/dataset.js';
import { meanPassAtK } from '../eval/pass-at-k.js';
import { applyWeights, resolveRewardSpecs, type RewardSpec } from '../reward/registry.js';
import type { RewardResult, RewardSample } from '../reward/types.js';
import { RewardPool } from '../reward/pool.js';
import { onDemand } from '../stages/on-demand.js';
import { verify } from '../stages/verify.js';
import { intOption, printJson, repeatable } from './common.js';
import { Progress } from './progress.js';

/** Streams rows to a JSONL file, renamed into place when complete. */
class JsonlSink {
  private readonly tmp: string;
  private readonly out;
  constructor(private readonly path: string) {
    this.tmp = `${path}.tmp-${process.pid}`;
    this.out = createWriteStream(this.tmp);
  }
  /** Queues one row (the stream buffers; `close` waits for all of it). */
  write(row: object): void {
    this.out.write(`${JSON.stringify(row)}\n`);
  }
  async close(): Promise<void> {
    this.out.end();
    await once(this.out, 'finish');
    await rename(this.tmp, this.path);
  }
}

function parseNumberList(name: string) {
  return (text: string): number[] => {
    const xs = text.split(',').map((s) => Number(s.trim()));
    if (xs.length === 0 || xs.some((x) => !Number.isFinite(x))) throw new Error(`${name} must be a comma-separated list of numbers, got ${JSON.stringify(text)}`);
    return xs;
  };
}

interface EvalCodeFlags {
  problems?: string;
  out?: string;
  k: number[];
  timeout: number;
  workers?: number;
  language: 'python' | 'javascript';
  json?: boolean;
}

async function evalCode(file: string, flags: EvalCodeFlags): Promise<void> {
  const problems = new Map<string, Record<string, unknown>>();
  if (flags.problems) for await (const p of readRows(flags.problems)) problems.set(String(p.task_id), p);
  const samples: (RewardSample & { task_id: string })[] = [];
  let line = 0;
  for await (const s of readRows(file)) {
    line++;
    const taskId = typeof s.task_id === 'string' || typeof s.task_id === 'number' ? String(s.task_id) : '';
    const problem = problems.get(taskId) ?? (typeof s.test === 'string' ? s : undefined);
    if (!problem) {
      throw new Error(
        `${file} row ${line}: task_id ${JSON.stringify(taskId)} has no problem: pass --problems HumanEval.jsonl.gz, or include prompt, test and entry_point in each sample`,
      );
    }
    if (typeof s.completion !== 'string') throw new Error(`${file} row ${line}: 'completion' must be a string`);
    samples.push({ task_id: taskId, id: `${taskId}#${line}`, prompt: typeof problem.prompt === 'string' ? problem.prompt : '', completion: s.completion, row: { language: flags.language, ...problem } });
  }
  if (samples.length === 0) throw new Error(`${file} has no samples`);
  const pool = new RewardPool({ limits: { timeoutMs: flags.timeout }, ...(flags.workers ? { size: flags.workers } : {}) });
  const out = new JsonlSink(flags.out ?? `${file.replace(/\.jsonl(\.gz)?$/, '')}_results.jsonl`);
  const progress = new Progress({ label: 'checking', total: samples.length, unit: 'checks', quiet: flags.json === true });
  const perTask = new Map<string, { n: number; c: number }>();
  const statuses: Record<string, number> = {};
  let done = 0;
  let passedSoFar = 0;
  const concurrency = pool.size * 4;
  // A sample enters as a check finishes, so the verify stage never holds the whole set in
  // its queue; pulling on the check, not on the ordered output, keeps a slow sample from
  // idling the pool while the ones after it wait to be emitted.
  const { items$, pull } = onDemand(samples, 2 * concurrency);
  const check = async (sample: RewardSample, signal: AbortSignal): Promise<RewardResult> => {
    try {
      return await pool.score(sample, [{ ref: 'code' }], { signal });
    } finally {
      pull();
    }
  };
  try {
    await lastValueFrom(
      items$.pipe(
        verify({ score: check, concurrency }),
        tap({
          next: (v) => {
            const passed = v.reward.status === 'ok';
            const t = perTask.get(v.task_id) ?? { n: 0, c: 0 };
            perTask.set(v.task_id, { n: t.n + 1, c: t.c + (passed ? 1 : 0) });
            statuses[v.reward.status] = (statuses[v.reward.status] ?? 0) + 1;
            if (passed) passedSoFar++;
            out.write({ task_id: v.task_id, completion: v.completion, passed, result: v.reward.status, reason: v.reward.reason });
            // A running count: summing over the tasks here would cost O(tasks) per sample.
            progress.update(++done, `pass ${((100 * passedSoFar) / done).toFixed(1)}%`);
          },
        }),
      ),
      { defaultValue: undefined },
    );
  } finally {
    await pool.close();
    await out.close();
  }
  progress.finish();
  const counts = [...perTask.values()];
  // A loop, not Math.min(...counts): spreading one argument per problem overflows the stack on large sets.
  const minN = counts.reduce((m, c) => Math.min(m, c.n), Number.POSITIVE_INFINITY);
  const passAt: Record<string, number> = {};
  for (const k of flags.k) if (k <= minN) passAt[`pass@${k}`] = meanPassAtK(counts, k);
  const summary = { file, samples: samples.length, problems: counts.length, ...passAt, statuses };
  if (flags.json) printJson(summary);
  else process.stdout.write(`${Object.entries(summary).map(([k, v]) => `${k}: ${typeof v === 'number' && k.startsWith('pass@') ? v.toFixed(4) : JSON.stringify(v)}`).join('\n')}\n`);
}

interface VerifyFlags {
  reward: string[];
  weights?: number[];
  option: string[];
  out: string;
  timeout: number;
  workers?: number;
  json?: boolean;
}

/** The reward specs of `--reward`, `--weights` and `--option` flags, validated. */
export function rewardSpecsFromFlags(flags: { reward: string[]; weights?: number[]; option: string[] }): RewardSpec[] {
  if (flags.reward.length === 0) throw new Error('give at least one --reward (kk, math, mc, code or a module path)');
  let specs: RewardSpec[] = flags.reward.map((ref) => ({ ref }));
  for (const o of flags.option) {
    const m = /^([^=]+)=(.*)$/s.exec(o);
    if (!m) throw new Error(`--option takes REWARD={"json":"options"}, got ${JSON.stringify(o)}`);
    const target = specs.find((s) => s.ref === m[1]);
    if (!target) throw new Error(`--option names reward '${m[1]}', which is not among --reward ${flags.reward.join(', ')}`);
    let options: unknown;
    try {
      options = JSON.parse(m[2] as string);
    } catch (e) {
      throw new Error(`--option ${m[1]}: not valid JSON (${(e as Error).message})`, { cause: e });
    }
    specs = specs.map((s) => (s === target ? { ...s, options: options as Record<string, unknown> } : s));
  }
  return resolveRewardSpecs(applyWeights(specs, flags.weights));
}

/** Adds `--reward`, `--weights` and `--option` to a command; `note` says what leaving out --reward does. */
export function addRewardOptions(cmd: Command, note = ''): Command {
  return cmd
    .option('--reward <ref>', `kk | math | mc | code | PATH to a reward module; repeat to compose${note ? ` (${note})` : ''}`, repeatable, [] as string[])
    .option('--weights <list>', 'one weight per --reward', parseNumberList('--weights'))
    .option('--option <r=json>', 'options for one reward, e.g. kk={"scheme":"logic-rl"}; repeatable', repeatable, [] as string[]);
}

async function verifyFile(file: string, flags: VerifyFlags): Promise<void> {
  const specs = rewardSpecsFromFlags(flags);
  const pool = new RewardPool({ limits: { timeoutMs: flags.timeout }, ...(flags.workers ? { size: flags.workers } : {}) });
  const out = new JsonlSink(flags.out);
  const progress = new Progress({ label: 'scoring', unit: 'samples', quiet: flags.json === true });
  const statuses: Record<string, number> = {};
  let n = 0;
  let sum = 0;
  let scored = 0;
  try {
    let row = 0;
    for await (const r of readRows(file)) {
      row++;
      if (typeof r.completion !== 'string') throw new Error(`${file} row ${row}: 'completion' must be a string`);
      const sample: RewardSample = { prompt: typeof r.prompt === 'string' ? r.prompt : '', completion: r.completion, row: r };
      const result = await pool.score(sample, specs);
      statuses[result.status] = (statuses[result.status] ?? 0) + 1;
      if (result.score !== null) {
        sum += result.score;
        scored++;
      }
      out.write({ ...r, reward: result.score, reward_status: result.status, reward_parts: result.parts, reward_reason: result.reason });
      progress.update(++n);
    }
  } finally {
    await pool.close();
    await out.close();
  }
  progress.finish(`-> ${flags.out}`);
  const summary = { file, out: flags.out, samples: n, scored, mean_reward: scored ? sum / scored : null, statuses };
  if (flags.json) printJson(summary);
  else process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
}

export function rewardCommands(): Command[] {
  const evalCodeCmd = new Command('eval-code')
    .description('run HumanEval-format samples ({task_id, completion} per line) in the sandbox and report pass@k')
    .argument('<samples>', 'samples file (.jsonl, .jsonl.gz, .arrow, …)')
    .option('--problems <file>', 'problems with prompt, test and entry_point (e.g. HumanEval.jsonl.gz); not needed if samples carry them')
    .option('--out <file>', 'per-sample results (default: SAMPLES_results.jsonl)')
    .option('--k <list>', 'pass@k values to report', parseNumberList('--k'), [1, 10, 100])
    .option('--timeout <ms>', 'time limit per check', intOption('--timeout', 1), 3000)
    .option('--workers <n>', 'sandbox workers (default: one per core)', intOption('--workers', 1, 256))
    .addOption(new Option('--language <lang>', 'language when the problems do not say').choices(['python', 'javascript']).default('python'))
    .option('--json', 'print the summary as JSON')
    .action((file: string, flags: EvalCodeFlags) => evalCode(file, flags));
  const verifyCmd = addRewardOptions(
    new Command('verify')
      .description('score {prompt, completion, …row} records with built-in or custom rewards, in the sandbox pool')
      .argument('<file>', 'records to score (.jsonl, .arrow, .arrows, .parquet)')
      .requiredOption('--out <file>', 'scored records (.jsonl)'),
  )
    .option('--timeout <ms>', 'time limit per code check', intOption('--timeout', 1), 3000)
    .option('--workers <n>', 'sandbox workers (default: one per core)', intOption('--workers', 1, 256))
    .option('--json', 'print the summary as JSON')
    .action((file: string, flags: VerifyFlags) => verifyFile(file, flags));
  return [evalCodeCmd, verifyCmd];
}
