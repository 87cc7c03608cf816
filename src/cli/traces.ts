/** `warmup traces`: puzzles → teacher chains of thought → verified, filtered traces dataset. */
import { existsSync } from 'node:fs';
import { appendFile, readFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { concatMap, lastValueFrom } from 'rxjs';
import { readRows } from '../data/dataset.js';
import { readPuzzles } from '../kk/records.js';
import { TRACES, withRunMetadata, type TraceRecord } from '../data/schemas.js';
import type { Puzzle } from '../kk/puzzle.js';
import { loadDefaultTokenizer } from '../model/default-tokenizer.js';
import { openArrowLog } from '../stages/arrow-log.js';
import { onDemand } from '../stages/on-demand.js';
import { traces, TraceStatsCollector } from '../stages/traces.js';
import { makeSymbolicTeacher, TRACE_STYLES, type TraceStyle } from '../teacher/symbolic.js';
import type { OpenAITeacher } from '../teacher/openai.js';
import type { Teacher } from '../teacher/types.js';
import { loadTemplate, templateTag } from '../teacher/templates.js';
import { intOption, numberOption, printJson, repeatable } from './common.js';
import { Progress } from './progress.js';

interface TracesFlags {
  puzzles: string;
  out: string;
  teacher: 'symbolic' | 'openai';
  template: string;
  n: number;
  filter: 'correct-only' | 'all';
  maxTokens: number;
  dedup: boolean;
  temperature: number;
  topP: number;
  order: 'fixed' | 'most-constrained' | 'random';
  slipRate: number;
  verbosity: 'short' | 'normal' | 'long';
  style: TraceStyle;
  baseUrl: string[];
  model?: string;
  mode: 'completions' | 'chat';
  concurrency: number;
  maxRetries: number;
  timeoutMs: number;
  limit?: number;
  json?: boolean;
  quiet?: boolean;
}

/**
 * The puzzles this run does, read in one pass: those not done yet, at most `limit` of
 * them. Their count is the progress total, so the file is not read a second time to
 * count it (puzzles are small: about 2.6 KiB of heap for six people).
 */
async function pendingPuzzles(path: string, done: ReadonlySet<string>, limit: number): Promise<Puzzle[]> {
  const out: Puzzle[] = [];
  for await (const p of readPuzzles(path)) {
    if (done.has(p.id)) continue;
    if (out.length >= limit) break;
    out.push(p);
  }
  return out;
}

/** Yields the items in order, letting go of each as it goes, so a long run's memory shrinks as it advances. */
function* consume<T>(items: (T | undefined)[]): Generator<T> {
  for (let i = 0; i < items.length; i++) {
    const item = items[i] as T;
    items[i] = undefined;
    yield item;
  }
}

async function runTraces(flags: TracesFlags): Promise<void> {
  if (!flags.out.endsWith('.arrows')) throw new Error(`--out must be an Arrow stream (.arrows), so an interrupted run can resume; got ${flags.out}`);
  const template = await loadTemplate(flags.template);
  const tokenizer = await loadDefaultTokenizer();
  let openai: OpenAITeacher | null = null;
  if (flags.teacher === 'openai') {
    if (flags.baseUrl.length === 0 || !flags.model) throw new Error('--teacher openai needs --base-url (repeatable) and --model');
    const { OpenAITeacher: Client } = await import('../teacher/openai.js');
    openai = new Client({ baseUrls: flags.baseUrl, model: flags.model, mode: flags.mode, concurrency: flags.concurrency, maxRetries: flags.maxRetries, timeoutMs: flags.timeoutMs });
  }
  const teacher: Teacher = openai ?? makeSymbolicTeacher({ order: flags.order, slipRate: flags.slipRate, verbosity: flags.verbosity, style: flags.style }, (s) => tokenizer.encode(s).length);
  // Resume: puzzles with traces in the output, and puzzles done with none kept (sidecar), are skipped.
  const sidecar = `${flags.out}.empty`;
  const done = new Set<string>();
  if (existsSync(flags.out)) {
    try {
      for await (const r of readRows(flags.out)) done.add(String(r.puzzle_id));
    } catch {
      // A torn tail: the complete rows were read; the writer drops the rest on open.
    }
  }
  if (existsSync(sidecar)) for (const id of (await readFile(sidecar, 'utf8')).split('\n')) if (id) done.add(id);
  const todo: (Puzzle | undefined)[] = await pendingPuzzles(flags.puzzles, done, flags.limit ?? Number.POSITIVE_INFINITY);
  const config = { command: 'traces', puzzles: flags.puzzles, teacher: teacher.id, template: templateTag(template), n: flags.n, filter: flags.filter, maxTokens: flags.maxTokens, dedup: flags.dedup, order: flags.order, slipRate: flags.slipRate, verbosity: flags.verbosity, style: flags.style };
  const schema = withRunMetadata(TRACES, config);
  // One flush per puzzle (flushMs 0), awaited: a crash loses at most the puzzle in flight.
  const writer = await openArrowLog<TraceRecord>(flags.out, schema, { append: true, flushMs: 0 });
  if (!flags.quiet && done.size > 0) process.stderr.write(`resuming: ${done.size} puzzles already done in ${flags.out}\n`);
  const stats = new TraceStatsCollector();
  const progress = new Progress({ label: 'traces', total: todo.length, unit: 'puzzles', quiet: flags.quiet === true || flags.json === true });
  const concurrency = openai ? flags.concurrency : 4;
  // Puzzles enter as groups are written, a few ahead of the teacher: nothing queues up
  // in front of the stage, and the first traces reach the file at once.
  const { items$, pull } = onDemand(consume(todo), 2 * concurrency);
  try {
    await lastValueFrom(
      items$.pipe(
        traces({
          teacher,
          template,
          sample: { n: flags.n, temperature: flags.temperature, topP: flags.topP, maxTokens: flags.maxTokens || 8192, stop: [] },
          filter: { keep: flags.filter, maxTokens: flags.maxTokens, dedup: flags.dedup },
          concurrency,
        }),
        concatMap(async (group) => {
          if (group.kept.length > 0) await writer.write(group.kept);
          else await appendFile(sidecar, `${group.puzzle.id}\n`);
          stats.add(group);
          // Running totals only: this runs once per puzzle, so it must not grow with the run.
          progress.update(stats.puzzles, `kept ${stats.kept}/${stats.sampled} (${((100 * stats.kept) / Math.max(1, stats.sampled)).toFixed(0)}%)  ${Math.round(stats.sampledTokens / progress.seconds)} tok/s`);
          pull();
        }),
      ),
      { defaultValue: undefined },
    );
  } finally {
    await writer.close();
  }
  progress.finish(`-> ${flags.out}`);
  const result = { out: flags.out, template: templateTag(template), teacher: teacher.id, resumed_from: done.size, ...stats.result(), rows_in_file: writer.existingRows + writer.rowsWritten, ...(openai ? { usage: openai.usage } : {}) };
  if (flags.json) printJson(result);
  else process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

export function tracesCommand(): Command {
  return new Command('traces')
    .description('sample chain-of-thought traces for K&K puzzles, verify them, filter, and write a traces dataset (resumable)')
    .requiredOption('--puzzles <file>', 'puzzles (warmup puzzles or a K&K / Logic-RL file)')
    .requiredOption('--out <file>', 'traces Arrow stream (.arrows); re-running with the same file resumes')
    .addOption(new Option('--teacher <kind>', 'symbolic (embedded, exact) or openai (any OpenAI-compatible server)').choices(['symbolic', 'openai']).default('symbolic'))
    .option('--base-url <url>', 'openai teacher: server base URL, e.g. http://localhost:8000/v1; repeat to balance over several', repeatable, [] as string[])
    .option('--model <name>', 'openai teacher: model id')
    .addOption(new Option('--mode <api>', 'openai teacher: /v1/completions (raw prompt) or /v1/chat/completions').choices(['completions', 'chat']).default('completions'))
    .option('--concurrency <n>', 'openai teacher: requests in flight', intOption('--concurrency', 1, 1024), 8)
    .option('--max-retries <n>', 'openai teacher: retries on 429/5xx/timeouts (exponential backoff with jitter)', intOption('--max-retries', 0, 20), 4)
    .option('--timeout-ms <ms>', 'openai teacher: per-request timeout', intOption('--timeout-ms', 1), 600_000)
    .option('--template <id|file>', 'prompt template: r1, logic-rl, or a file with {quiz}', 'r1')
    .option('--n <k>', 'samples per puzzle (the paper: 4)', intOption('--n', 1, 64), 4)
    .addOption(new Option('--filter <policy>', 'correct-only (rejection sampling) or all (the paper kept wrong traces)').choices(['correct-only', 'all']).default('correct-only'))
    .option('--max-tokens <n>', 'drop traces longer than this (0: keep all)', intOption('--max-tokens', 0), 0)
    .option('--no-dedup', 'keep repeated completions of a puzzle')
    .option('--temperature <t>', 'sampling temperature (remote teachers; the paper: 0.6)', numberOption('--temperature', 0, 2), 0.6)
    .option('--top-p <p>', 'nucleus mass (remote teachers; the paper: 0.95)', numberOption('--top-p', 0, 1), 0.95)
    .addOption(new Option('--order <order>', 'symbolic teacher: which islander to suppose about next').choices(['fixed', 'most-constrained', 'random']).default('most-constrained'))
    .option('--slip-rate <x>', 'symbolic teacher: chance of a deliberate slip that the trace corrects', numberOption('--slip-rate', 0, 1), 0.1)
    .addOption(new Option('--verbosity <v>', 'symbolic teacher (search style)').choices(['short', 'normal', 'long']).default('normal'))
    .addOption(new Option('--style <s>', 'symbolic teacher: search (suppose, propagate, backtrack), cases (check each assignment in order, with the quiz\'s names; easier for a small student) or numbered (cases, with the islanders numbered so that only the claims and the answer copy names)').choices([...TRACE_STYLES]).default('search'))
    .option('--limit <n>', 'process at most this many new puzzles in this run', intOption('--limit', 0))
    .option('--json', 'print the summary as JSON only')
    .option('--quiet', 'no progress output')
    .action((flags: TracesFlags) => runTraces(flags));
}
