/**
 * The reward pool's worker: scores one sample with one or more rewards. Reward
 * modules, the Pyodide interpreter and the QuickJS module load once per worker and
 * stay warm. Anything a reward does wrong (throws, returns NaN, returns garbage)
 * becomes a `crashed` result here.
 *
 * Deadlines are kept here, on the worker's own clock, from when the check really
 * starts: Python by this worker's deadline thread (`deadline.ts`), JavaScript by
 * QuickJS's interrupt handler. The pool's thread, which may be held for seconds by
 * generation, only terminates a worker stuck past that (a program that ignores the
 * interrupt, a custom reward that never returns); the stamps written to the task's
 * control buffer tell it how long the worker has really been at the task, and that
 * it has finished.
 */
import { composeResults, checkResult } from './compose.js';

import { RewardRegistry } from './registry.js';
import type { CodeLanguage, RewardContext, RewardResult } from './types.js';
import { runJavaScript } from '../sandbox/javascript.js';
import type { CheckResult, CodeTask, SandboxLimits } from '../sandbox/limits.js';
import { DeadlineTimer } from '../sandbox/deadline.js';
import { CTRL, type RewardTask } from './protocol.js';
import { pythonSandbox, SandboxFatalError } from '../sandbox/python.js';

const registry = new RewardRegistry();
const deadline = new DeadlineTimer();

/**
 * Runs one code check. Python's time limit is the pool's (`poolLimits.timeoutMs`, the
 * `--timeout` of the commands), as when the pool's thread enforced it; its clock
 * starts once the interpreter is loaded, so a first-use load does not count.
 */
async function runCode(ctrl: Int32Array, epoch: number, poolLimits: SandboxLimits, language: CodeLanguage, task: CodeTask, limits: SandboxLimits): Promise<CheckResult> {
  if (language === 'javascript') return runJavaScript(task, limits);
  const box = await pythonSandbox(limits.memoryMb);
  Atomics.store(ctrl, CTRL.runStarted, Math.max(1, Date.now() - epoch));
  deadline.arm(poolLimits.timeoutMs);
  try {
    return box.run(task, limits, deadline.interrupt);
  } catch (e) {
    if (e instanceof SandboxFatalError) {
      return { status: 'crashed', detail: e.message, output: '', outputTruncated: false, ms: 0 };
    }
    throw e;
  } finally {
    deadline.disarm();
    Atomics.store(ctrl, CTRL.runStarted, 0);
  }
}

export default async function scoreTask(task: RewardTask): Promise<RewardResult> {
  const ctrl = new Int32Array(task.ctrl);
  const started = performance.now();
  Atomics.store(ctrl, CTRL.taskStarted, Math.max(1, Date.now() - task.epoch));
  try {
    return await scoreRewards(task, ctrl);
  } finally {
    // Busy time first: the pool reads it once it sees `taskEnded`.
    Atomics.store(ctrl, CTRL.busyUs, Math.min(2 ** 31 - 1, Math.round((performance.now() - started) * 1000)));
    Atomics.store(ctrl, CTRL.taskEnded, Math.max(1, Date.now() - task.epoch));
  }
}

async function scoreRewards(task: RewardTask, ctrl: Int32Array): Promise<RewardResult> {
  const context: RewardContext = { runCode: (language, code, limits) => runCode(ctrl, task.epoch, task.limits, language, code, limits) };
  const entries: { id: string; weight: number; result: RewardResult }[] = [];
  for (const spec of task.rewards) {
    let id = spec.ref;
    let result: RewardResult;
    try {
      const module = await registry.load(spec.ref);
      id = module.id;
      result = checkResult(id, await module.score(task.sample, spec.options ?? {}, context));
    } catch (e) {
      result = { score: null, status: 'crashed', parts: {}, reason: `reward '${id}' threw: ${e instanceof Error ? e.message : String(e)}`.slice(0, 1000) };
    }
    entries.push({ id, weight: spec.weight ?? 1, result });
  }
  return composeResults(entries);
}
