/**
 * The reward pool's worker: scores one sample with one or more rewards. Reward
 * modules, the Pyodide interpreter and the QuickJS module load once per worker and
 * stay warm. Anything a reward does wrong (throws, returns NaN, returns garbage)
 * becomes a `crashed` result here; hangs are ended by the pool, which terminates the
 * worker.
 */
import { composeResults, checkResult } from '../reward/compose.js';
import { setCodeRunner, type CodeLanguage } from '../reward/code.js';
import { RewardRegistry } from '../reward/registry.js';
import type { RewardResult } from '../reward/types.js';
import { runJavaScript } from './javascript.js';
import type { CheckResult, CodeTask, SandboxLimits } from './limits.js';
import { CTRL, type RewardTask } from './protocol.js';
import { pythonSandbox, SandboxFatalError } from './python.js';

const registry = new RewardRegistry();

async function runCode(ctrl: Int32Array, epoch: number, language: CodeLanguage, task: CodeTask, limits: SandboxLimits): Promise<CheckResult> {
  if (language === 'javascript') return runJavaScript(task, limits);
  const box = await pythonSandbox(limits.memoryMb);
  Atomics.store(ctrl, CTRL.interrupt, 0);
  Atomics.store(ctrl, CTRL.runStarted, Math.max(1, Date.now() - epoch));
  try {
    return box.run(task, limits, ctrl.subarray(CTRL.interrupt, CTRL.interrupt + 1));
  } catch (e) {
    if (e instanceof SandboxFatalError) {
      return { status: 'crashed', detail: e.message, output: '', outputTruncated: false, ms: 0 };
    }
    throw e;
  } finally {
    Atomics.store(ctrl, CTRL.runStarted, 0);
  }
}

export default async function scoreTask(task: RewardTask): Promise<RewardResult> {
  const ctrl = new Int32Array(task.ctrl);
  Atomics.store(ctrl, CTRL.taskStarted, Math.max(1, Date.now() - task.epoch));
  setCodeRunner((language, code, limits) => runCode(ctrl, task.epoch, language, code, limits));
  const entries: { id: string; weight: number; result: RewardResult }[] = [];
  for (const spec of task.rewards) {
    let id = spec.ref;
    let result: RewardResult;
    try {
      const module = await registry.load(spec.ref);
      id = module.id;
      result = checkResult(id, await module.score(task.sample, spec.options ?? {}));
    } catch (e) {
      result = { score: null, status: 'crashed', parts: {}, reason: `reward '${id}' threw: ${e instanceof Error ? e.message : String(e)}`.slice(0, 1000) };
    }
    entries.push({ id, weight: spec.weight ?? 1, result });
  }
  return composeResults(entries);
}
