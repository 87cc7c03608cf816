/**
 * JavaScript code checks in QuickJS (compiled to wasm, via quickjs-emscripten). The
 * wasm module loads once per worker; every task gets a new runtime and context, so no
 * state survives a task.
 *
 * Isolation: QuickJS has no file system, network, timers or process objects unless
 * given them, and here it gets only `console.log` (capped). Time is enforced by an
 * interrupt handler with a deadline, memory by the runtime's allocator limit (and the
 * thread's wasm ceiling), stack depth by a stack limit. Before the program runs, the
 * intrinsics are frozen and their global bindings made read-only, so a program cannot
 * patch `JSON.stringify` or `Object.is` to fake a pass, and the tests run in their own
 * function scope.
 */
import { getQuickJS, shouldInterruptAfterDeadline, type QuickJSWASMModule } from 'quickjs-emscripten';
import { OutputCap, type CheckResult, type CodeTask, type SandboxLimits } from './limits.js';
import { capWasmMemory } from './wasm-memory.js';

const LOCKDOWN = String.raw`
(() => {
  const names = Object.getOwnPropertyNames(globalThis).filter((n) => /^[A-Z]/.test(n) || n === 'globalThis');
  for (const n of names) {
    const v = globalThis[n];
    if ((typeof v === 'function' || typeof v === 'object') && v !== null && v !== globalThis) {
      Object.freeze(v);
      if (v.prototype) Object.freeze(v.prototype);
    }
    Object.defineProperty(globalThis, n, { writable: false, configurable: false });
  }
  for (const p of [Object.getPrototypeOf(function* () {}), Object.getPrototypeOf(async function () {}), Object.getPrototypeOf([][Symbol.iterator]())]) Object.freeze(p);
})();
`;

const CHECK = (entryPoint: string | null, test: string): string => String.raw`
(() => {
  const plain = (v, depth) => {
    if (depth > 50) throw new Error('result nests too deeply');
    if (v === null || ['number', 'string', 'boolean', 'undefined', 'bigint'].includes(typeof v)) return;
    if (Array.isArray(v) && Object.getPrototypeOf(v) === Array.prototype) { for (const x of v) plain(x, depth + 1); return; }
    const proto = Object.getPrototypeOf(v);
    if (typeof v === 'object' && (proto === Object.prototype || proto === null)) { for (const k of Object.keys(v)) plain(v[k], depth + 1); return; }
    throw new Error('result is not plain data (' + Object.prototype.toString.call(v) + ')');
  };
  const assert = (cond, message) => { if (!cond) throw new Error('AssertionError: ' + (message ?? 'assertion failed')); };
  void assert;
  ${entryPoint ? `const __candidate = globalThis[${JSON.stringify(entryPoint)}];
  if (typeof __candidate !== 'function') throw new Error('the program defines no function ${entryPoint}');` : ''}
  const __check = (() => {
${test}
    return typeof check === 'function' ? check : undefined;
  })();
  ${entryPoint ? `if (typeof __check !== 'function') throw new Error('the test defines no check(candidate) function');
  __check((...args) => { const r = __candidate(...args); plain(r, 0); return r; });` : ''}
})();
`;

let module: Promise<QuickJSWASMModule> | null = null;

/** Runs one JS check. */
export async function runJavaScript(task: CodeTask, limits: SandboxLimits): Promise<CheckResult> {
  capWasmMemory(limits.memoryMb);
  const qjs = await (module ??= getQuickJS());
  const start = performance.now();
  const output = new OutputCap(limits.outputBytes);
  const runtime = qjs.newRuntime();
  runtime.setMemoryLimit(Math.min(limits.memoryMb, 256) * 2 ** 20);
  runtime.setMaxStackSize(1 << 20);
  runtime.setInterruptHandler(shouldInterruptAfterDeadline(Date.now() + limits.timeoutMs));
  const ctx = runtime.newContext();
  let status: CheckResult['status'] = 'passed';
  let detail = '';
  try {
    const consoleObj = ctx.newObject();
    const log = ctx.newFunction('log', (...args) => {
      output.write(`${args.map((a) => String(ctx.dump(a))).join(' ')}\n`);
    });
    ctx.setProp(consoleObj, 'log', log);
    ctx.setProp(consoleObj, 'error', log);
    ctx.setProp(ctx.global, 'console', consoleObj);
    log.dispose();
    consoleObj.dispose();
    for (const [name, code] of [
      ['lockdown', LOCKDOWN],
      ['program', task.program],
      ['test', CHECK(task.entryPoint, task.test)],
    ] as const) {
      const r = ctx.evalCode(code, `<${name}>`);
      if (r.error) {
        const err = ctx.dump(r.error) as { name?: string; message?: string } | string;
        r.error.dispose();
        const message = typeof err === 'object' && err !== null ? `${err.name ?? 'Error'}: ${err.message ?? ''}` : String(err);
        if (/interrupted/i.test(message)) status = 'timeout';
        else if (/out of memory/i.test(message)) status = 'memory';
        else if (name === 'lockdown') status = 'crashed';
        else status = name === 'program' ? 'error' : 'failed';
        detail = message.slice(0, 500);
        break;
      }
      r.value.dispose();
    }
  } finally {
    ctx.dispose();
    runtime.dispose();
  }
  return { status, detail, output: output.text(), outputTruncated: output.truncated, ms: performance.now() - start };
}
