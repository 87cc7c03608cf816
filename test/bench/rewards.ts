/**
 * Reward benchmark: code checks/s through the reward pool at full size (one worker per
 * core), against a process-per-check baseline measured in the same run.
 *
 * - Python: HumanEval's 164 canonical solutions (../shared; skipped with a reason
 *   when absent). Baseline: a fresh `python3` process per check, as OpenAI's
 *   human-eval harness runs them, with as many in parallel as the pool has workers.
 * - JavaScript: JS_TASKS in QuickJS. Baseline: a fresh `node` process per check.
 * - K&K and math rewards: scores/s through the same pool.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { readHumanEval } from '../../dist/eval/humaneval.js';
import { RewardPool } from '../../dist/reward/pool.js';
import { JS_TASKS } from './js-tasks.js';

const SHARED = join(process.cwd(), '..', 'shared', 'datasets');

async function parallel<T>(items: readonly T[], width: number, fn: (x: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await fn(items[next++] as T);
  }));
}

function runProcess(cmd: string, args: string[], input: string, timeoutMs: number): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'ignore', 'ignore'], timeout: timeoutMs });
    child.on('exit', (code) => resolve(code));
    child.on('error', () => resolve(null));
    child.stdin.end(input);
  });
}

async function rate(n: number, work: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await work();
  return (n / (performance.now() - t0)) * 1000;
}

export async function run(): Promise<unknown> {
  const size = availableParallelism();
  const pool = new RewardPool({ size });
  const out: Record<string, unknown> = {
    what: 'reward checks/s through the Piscina pool at full size, against a process per check in the same run',
    workers: size,
    isolation: {
      python: 'Pyodide (CPython in wasm): in-memory file system, no processes or sockets, JS bridge removed, wasm heap ceiling, interrupt-buffer deadline with worker termination as the fallback',
      javascript: 'QuickJS in wasm: new runtime per check, no host objects but a capped console, frozen intrinsics, allocator and stack limits, deadline interrupt handler',
    },
  };
  try {
    await pool.warmup();
    const hePath = join(SHARED, 'humaneval', 'HumanEval.jsonl.gz');
    if (existsSync(hePath)) {
      const problems = readHumanEval(hePath);
      let passed = 0;
      const ours = await rate(problems.length, async () => {
        const rs = await Promise.all(problems.map((p) => pool.score({ prompt: p.prompt, completion: p.canonical_solution, row: { ...p } }, [{ ref: 'code' }])));
        passed = rs.filter((r) => r.status === 'ok').length;
      });
      const subset = problems.slice(0, 48);
      const baseline = await rate(subset.length, () =>
        parallel(subset, size, (p) => runProcess('python3', ['-'], `${p.prompt}${p.canonical_solution}\n${p.test}\ncheck(${p.entry_point})\n`, 10_000)),
      );
      out.python = {
        checks: problems.length,
        passed,
        checks_per_s: Math.round(ours),
        baseline_process_per_check_per_s: Math.round(baseline),
        ratio_vs_baseline: Math.round((ours / baseline) * 10) / 10,
        target_checks_per_s: 400,
      };
    } else {
      out.python = { skipped: `${hePath} is absent (../shared is only on developer and CI machines)` };
    }
    const jsChecks = Array.from({ length: 600 }, (_, i) => JS_TASKS[i % JS_TASKS.length] as (typeof JS_TASKS)[number]);
    let jsPassed = 0;
    const jsRate = await rate(jsChecks.length, async () => {
      const rs = await Promise.all(jsChecks.map((t) => pool.score({ prompt: '', completion: t.solution, row: { ...t, prompt: '', language: 'javascript' } }, [{ ref: 'code' }])));
      jsPassed = rs.filter((r) => r.status === 'ok').length;
    });
    const jsSubset = jsChecks.slice(0, 40);
    const jsBaseline = await rate(jsSubset.length, () =>
      parallel(jsSubset, size, (t) => runProcess(process.execPath, ['-'], `${t.solution}\n${t.test}\ncheck(${t.entry_point});\n`, 10_000)),
    );
    out.javascript = {
      checks: jsChecks.length,
      passed: jsPassed,
      checks_per_s: Math.round(jsRate),
      baseline_process_per_check_per_s: Math.round(jsBaseline),
      ratio_vs_baseline: Math.round((jsRate / jsBaseline) * 10) / 10,
      target_checks_per_s: 1000,
    };
    const kkRow = { names: ['Zoey', 'Oliver', 'Ethan'], solution: [true, false, true] };
    const kkDone = 2000;
    const kkRate = await rate(kkDone, async () => {
      await parallel([...Array(kkDone).keys()], 8 * size, (i) => pool.score({ prompt: 'Q', completion: `<think>${'step '.repeat(i % 50)}</think><answer>(1) Zoey is a knight (2) Oliver is a knave (3) Ethan is a knight</answer>`, row: kkRow }, [{ ref: 'kk' }]));
    });
    const mathRate = await rate(1000, async () => {
      await parallel([...Array(1000).keys()], 8 * size, (i) => pool.score({ prompt: '', completion: `so \\boxed{\\frac{${i}}{2}}`, row: { answer: String(i / 2) } }, [{ ref: 'math' }]));
    });
    out.kk_scores_per_s = Math.round(kkRate);
    out.math_scores_per_s = Math.round(mathRate);
  } finally {
    await pool.close();
  }
  return out;
}
