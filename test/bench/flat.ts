/**
 * Flat-throughput benchmark (issue 12): every streaming command that can run long
 * without a model, run as users run it (`bin/warmup.js` in a child process), with its
 * rate over the first and the last 10% of its items. A command whose per-item work grows
 * with the run shows a last/first ratio well below 1; the acceptance check is 60,000
 * six-person puzzles through `warmup traces` with the last 10% within 20% of the first.
 *
 * Items are timed by when their output lands on disk, read from beside the command
 * (every 20 ms), so the command runs unchanged: `warmup traces` writes one Arrow batch
 * per puzzle, `warmup replay` one batch per logged step (its rows are counted), and
 * `warmup verify` one JSON line per sample. Startup (loading, resume scans, the first
 * read of the input) is reported apart, as the time to the first item.
 *
 * BENCH_FLAT_SCALE multiplies every size (default 1: about 2 minutes on 2 cores; 3 runs
 * the acceptance size of 60,000 puzzles), and BENCH_FLAT_COMMANDS picks commands
 * (default: traces,verify,replay).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, readdirSync } from 'node:fs';
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { ArrowStreamWriter, scanMessages } from '../../dist/data/ipc.js';
import { puzzleToRecord } from '../../dist/kk/records.js';
import { recordsToBatch } from '../../dist/data/records.js';
import { ROLLOUTS, withRunMetadata, type RolloutRecord } from '../../dist/data/schemas.js';
import { generatePuzzles } from '../../dist/kk/generator.js';
import type { Puzzle } from '../../dist/kk/puzzle.js';
import { R1_TEMPLATE, renderPrompt } from '../../dist/teacher/templates.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(ROOT, 'bin', 'warmup.js');
const SCALE = Number(process.env.BENCH_FLAT_SCALE ?? 1);
const POLL_MS = 20;
/** Sizes at scale 1: runs of about 25-70 s each on 2 shared cores. */
const SIZES = { puzzles: 20_000, verifySamples: 80_000, replaySteps: 2_500 };
const GROUP = 8; // completions per prompt in the synthetic rollouts log
const PROMPTS_PER_STEP = 4;

/** Counts the items in newly written bytes; keeps its own state between calls. */
type Counter = (bytes: Uint8Array) => number;

/** Arrow stream messages: record batches (one per traces puzzle) or their rows (replay). */
function arrowCounter(unit: 'batches' | 'rows'): Counter {
  let pending = new Uint8Array(0);
  return (bytes) => {
    const buf = new Uint8Array(pending.length + bytes.length);
    buf.set(pending, 0);
    buf.set(bytes, pending.length);
    const scan = scanMessages(buf);
    pending = buf.slice(scan.end);
    return scan.spans.reduce((n, s) => n + (s.kind !== 'batch' ? 0 : unit === 'rows' ? s.rows : 1), 0);
  };
}

/** JSON Lines: one item per newline. */
const lineCounter: Counter = (bytes) => bytes.reduce((n, b) => n + (b === 0x0a ? 1 : 0), 0);

/** A command's run: when each item landed (ms, performance.now), its stdout and timing. */
interface Watched {
  readonly times: number[];
  readonly stdout: string;
  readonly startedAt: number;
  readonly exitedAt: number;
}

/**
 * Runs `warmup ARGS` and follows the file `find` names (null until it exists). The
 * file is held open once found, so a JSONL sink renamed into place at the end is
 * still read to its last line.
 */
async function watch(args: string[], find: () => string | null, count: Counter): Promise<Watched> {
  const startedAt = performance.now();
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  let running = true;
  void exited.then(() => (running = false));
  const times: number[] = [];
  const chunk = new Uint8Array(1 << 22);
  let fh: FileHandle | null = null;
  let offset = 0;
  const drain = async (): Promise<void> => {
    if (!fh) {
      const path = find();
      if (!path) return;
      fh = await open(path, 'r');
    }
    for (;;) {
      const { bytesRead } = await fh.read(chunk, 0, chunk.length, offset);
      if (bytesRead === 0) return;
      offset += bytesRead;
      const now = performance.now();
      for (let n = count(chunk.subarray(0, bytesRead)); n > 0; n--) times.push(now);
    }
  };
  try {
    while (running) {
      await drain();
      await sleep(POLL_MS);
    }
    const [code, signal] = await exited;
    const exitedAt = performance.now();
    await drain();
    if (code !== 0) throw new Error(`warmup ${args.join(' ')} exited with ${code ?? signal}: ${stderr.slice(-2000)}`);
    return { times, stdout, startedAt, exitedAt };
  } finally {
    await (fh as FileHandle | null)?.close();
  }
}

/** Rates over the first and last 10% of the items, and the time to the first one. */
function rates(command: string, w: Watched, expected: number): Record<string, unknown> {
  const { times } = w;
  const n = times.length;
  if (n !== expected) throw new Error(`${command}: saw ${n} items, expected ${expected}`);
  const k = Math.max(2, Math.floor(n / 10));
  const rate = (from: number, to: number): number => (to - from) / (((times[to] as number) - (times[from] as number)) / 1000);
  const first = rate(0, k - 1);
  const last = rate(n - k, n - 1);
  return {
    items: n,
    window: k,
    first_10pct_per_s: Math.round(first),
    last_10pct_per_s: Math.round(last),
    last_over_first: +(last / first).toFixed(3),
    mean_per_s: Math.round((n - 1) / (((times[n - 1] as number) - (times[0] as number)) / 1000)),
    per_tenth_per_s: Array.from({ length: 10 }, (_, d) => Math.round(rate(Math.floor((d * (n - 1)) / 10), Math.floor(((d + 1) * (n - 1)) / 10)))),
    to_first_item_s: +(((times[0] as number) - w.startedAt) / 1000).toFixed(2),
    total_s: +((w.exitedAt - w.startedAt) / 1000).toFixed(1),
  };
}

/** A K&K sample as `warmup verify` reads it: the puzzle's columns, a prompt and a completion, wrong one time in five. */
function verifySample(p: Puzzle, i: number): Record<string, unknown> {
  const solution = i % 5 === 4 ? p.solution.map((v, j) => (j === 0 ? !v : v)) : p.solution;
  const answer = p.names.map((name, j) => `(${j + 1}) ${name} is a ${solution[j] ? p.roles.truthful : p.roles.liar}`).join('\n');
  return { ...puzzleToRecord(p), prompt: renderPrompt(R1_TEMPLATE, { quiz: p.quiz, names: p.names }), completion: ` Each claim checks out against the others. </think>\n<answer>\n${answer}\n</answer>` };
}

async function benchTraces(dir: string, puzzles: number): Promise<Record<string, unknown>> {
  const input = join(dir, 'puzzles.arrow');
  const gen = spawnSync(process.execPath, [BIN, 'kk', 'generate', '--people', '6', '--count', String(puzzles), '--seed', '12', '--out', input, '--quiet'], { encoding: 'utf8' });
  if (gen.status !== 0) throw new Error(`kk generate failed: ${gen.stderr}`);
  const out = join(dir, 'traces.arrows');
  const w = await watch(['traces', '--puzzles', input, '--out', out, '--json'], () => (existsSync(out) ? out : null), arrowCounter('batches'));
  const summary = JSON.parse(w.stdout) as { puzzles: number; kept: number; sampled: number };
  if (summary.puzzles !== puzzles) throw new Error(`traces did ${summary.puzzles} puzzles, expected ${puzzles}`);
  return { what: `warmup traces, symbolic teacher, n=4, ${puzzles} six-person puzzles; items: puzzles`, ...rates('traces', w, puzzles), kept: summary.kept, sampled: summary.sampled };
}

async function benchVerify(dir: string, samples: number): Promise<Record<string, unknown>> {
  const input = join(dir, 'samples.jsonl');
  const sink = createWriteStream(input);
  let i = 0;
  for (const p of generatePuzzles({ people: [4, 5, 6], count: samples, seed: 5 })) {
    if (!sink.write(`${JSON.stringify(verifySample(p, i++))}\n`)) await once(sink, 'drain');
  }
  sink.end();
  await once(sink, 'finish');
  const out = join(dir, 'scored.jsonl');
  const tmp = `${basename(out)}.tmp-`;
  const find = (): string | null => {
    const name = readdirSync(dir).find((f) => f.startsWith(tmp));
    return name ? join(dir, name) : null;
  };
  const w = await watch(['verify', input, '--reward', 'kk', '--out', out, '--json'], find, lineCounter);
  const summary = JSON.parse(w.stdout) as { samples: number; statuses: Record<string, number> };
  if (summary.samples !== samples) throw new Error(`verify scored ${summary.samples}, expected ${samples}`);
  return { what: `warmup verify --reward kk, ${samples} K&K samples (4-6 people); items: samples`, ...rates('verify', w, samples), statuses: summary.statuses };
}

async function benchReplay(dir: string, steps: number): Promise<Record<string, unknown>> {
  const log = join(dir, 'rollouts.arrows');
  const schema = withRunMetadata(ROLLOUTS, { command: 'rlvr', config: { temperature: 0.7 } });
  const writer = await ArrowStreamWriter.open(log, schema);
  const puzzles = generatePuzzles({ people: [4, 5, 6], count: steps * PROMPTS_PER_STEP, seed: 9 });
  let rowsWritten = 0;
  try {
    for (let step = 1; step <= steps; step++) {
      const rows: RolloutRecord[] = [];
      for (let q = 0; q < PROMPTS_PER_STEP; q++) {
        const p = puzzles.next().value as Puzzle;
        const base = verifySample(p, 0);
        const example = JSON.stringify(puzzleToRecord(p));
        for (let g = 0; g < GROUP; g++) {
          const wrong = verifySample(p, g === 0 ? 4 : 0);
          rows.push({ run_id: 'bench', step, policy_version: step - 1, prompt_id: p.id, group_idx: g, prompt: base.prompt as string, example, completion: wrong.completion as string, token_ids: [1, 2, 3], logprobs: [-0.5, -0.5, -0.5], reward: 0, reward_parts: '{}', advantage: 0, status: 'ok', finish_reason: 'stop' });
        }
      }
      await writer.write(recordsToBatch(schema, rows));
      rowsWritten += rows.length;
    }
  } finally {
    await writer.close();
  }
  const out = join(dir, 'rescored.arrows');
  const w = await watch(['replay', log, '--reward', 'kk', '--out', out, '--json'], () => (existsSync(out) ? out : null), arrowCounter('rows'));
  const summary = JSON.parse(w.stdout) as { rows: number; changed: number };
  if (summary.rows !== rowsWritten) throw new Error(`replay re-scored ${summary.rows} rows, expected ${rowsWritten}`);
  return { what: `warmup replay --reward kk, ${steps} steps x ${PROMPTS_PER_STEP} prompts x ${GROUP} rollouts; items: rollouts`, ...rates('replay', w, rowsWritten), changed: summary.changed };
}

export async function run(): Promise<unknown> {
  if (!(SCALE > 0)) throw new Error(`BENCH_FLAT_SCALE must be > 0, got ${process.env.BENCH_FLAT_SCALE}`);
  const size = (n: number): number => Math.max(100, Math.round(n * SCALE));
  const commands = (process.env.BENCH_FLAT_COMMANDS ?? 'traces,verify,replay').split(',').map((c) => c.trim());
  const benches: Record<string, (dir: string) => Promise<Record<string, unknown>>> = {
    traces: (dir) => benchTraces(dir, size(SIZES.puzzles)),
    verify: (dir) => benchVerify(dir, size(SIZES.verifySamples)),
    replay: (dir) => benchReplay(dir, size(SIZES.replaySteps)),
  };
  const unknown = commands.filter((c) => !(c in benches));
  if (unknown.length > 0) throw new Error(`BENCH_FLAT_COMMANDS: unknown ${unknown.join(', ')}; known: ${Object.keys(benches).join(', ')}`);
  const dir = await mkdtemp(join(tmpdir(), 'warmup-flat-'));
  try {
    const results: Record<string, Record<string, unknown>> = {};
    for (const c of commands) results[c] = await (benches[c] as (dir: string) => Promise<Record<string, unknown>>)(dir);
    const worst = Math.min(...Object.values(results).map((r) => r.last_over_first as number));
    return { scale: SCALE, acceptance: 'last 10% rate within 20% of the first 10% (ratio >= 0.8)', worst_ratio: worst, pass: worst >= 0.8, ...results };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
