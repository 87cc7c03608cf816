/**
 * Python code checks in Pyodide (CPython compiled to wasm), one warm interpreter per
 * worker thread, reset between tasks by the harness (see `python-harness.ts`).
 *
 * Isolation: the interpreter has no host file system (an in-memory one), no processes
 * and no sockets; the JS bridge is cut before any user code runs; memory is capped by
 * refusing wasm heap growth; time is enforced by an interrupt buffer that the worker's
 * deadline thread sets at the deadline (Python sees KeyboardInterrupt; see
 * `deadline.ts`), and, if a program swallows that, by the pool terminating the worker.
 */
import { loadPyodide, type PyodideInterface } from 'pyodide';
import { OutputCap, type CheckResult, type CodeTask, type SandboxLimits } from './limits.js';
import { PYTHON_HARNESS } from './python-harness.js';
import { capWasmMemory } from './wasm-memory.js';

let loading: Promise<PythonSandbox> | null = null;

/** The warm Python sandbox of this thread (loaded on first use, ~2–3 s). */
export function pythonSandbox(memoryMb: number): Promise<PythonSandbox> {
  capWasmMemory(memoryMb);
  return (loading ??= PythonSandbox.load());
}

/** Thrown when the interpreter is beyond repair; the worker must be replaced. */
export class SandboxFatalError extends Error {}

export class PythonSandbox {
  private output = new OutputCap(0);
  private dead = false;
  /** The harness entry, held from JS: the harness restores `__main__` itself between tasks. */
  private runner: ((p: string, t: string, e: string | null) => { toJs(): [string, string]; destroy(): void }) | null = null;

  private constructor(private readonly py: PyodideInterface) {}

  static async load(): Promise<PythonSandbox> {
    const py = await loadPyodide({ fullStdLib: false });
    const box = new PythonSandbox(py);
    const sink = { write: (buf: Uint8Array): number => (box.output.write(new TextDecoder().decode(buf)), buf.length) };
    py.setStdout(sink);
    py.setStderr(sink);
    py.runPython(PYTHON_HARNESS);
    box.runner = (py.globals as unknown as { get(name: string): unknown }).get('__warmup_run') as typeof box.runner;
    return box;
  }

  /** Runs `task` with `limits`; `interrupt` is the shared buffer the deadline is signalled through. */
  run(task: CodeTask, limits: SandboxLimits, interrupt?: Int32Array): CheckResult {
    if (this.dead) throw new SandboxFatalError('the Python interpreter was lost in an earlier task');
    const start = performance.now();
    this.output = new OutputCap(limits.outputBytes);
    if (interrupt) this.py.setInterruptBuffer(interrupt);
    let status: string;
    let detail: string;
    try {
      const r = (this.runner as NonNullable<typeof this.runner>)(task.program, task.test, task.entryPoint);
      [status, detail] = r.toJs();
      r.destroy();
    } catch (e) {
      // A JS-level error out of the interpreter means its state is not trustworthy:
      // drop it, so the next task of this worker loads a fresh one.
      this.dead = true;
      loading = null;
      throw new SandboxFatalError(`Python interpreter failed: ${String(e).slice(0, 300)}`);
    } finally {
      if (interrupt) Atomics.store(interrupt, 0, 0);
    }
    return {
      status: status as CheckResult['status'],
      detail,
      output: this.output.text(),
      outputTruncated: this.output.truncated,
      ms: performance.now() - start,
    };
  }
}
