// Hostile programs: each row must end with the expected status, inside its limits, and
// the pool must still pass a benign task right after it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RewardPool } from '../../src/reward/pool.js';
import type { RewardResult } from '../../src/reward/types.js';

let pool: RewardPool;
beforeAll(async () => {
  // 3 s: a memory bomb must reach its ceiling well inside the limit even on a loaded machine.
  pool = new RewardPool({ size: 2, limits: { timeoutMs: 3000, memoryMb: 256, outputBytes: 4096 }, graceMs: 500, taskTimeoutMs: 20_000 });
  await pool.warmup();
}, 60_000);
afterAll(() => pool.close());

const PY_TEST = 'def check(candidate):\n    assert candidate(2) == 4\n';
const JS_TEST = 'function check(candidate) { if (candidate(2) !== 4) throw new Error("AssertionError: expected 4"); }';

async function py(program: string, test = PY_TEST): Promise<RewardResult> {
  return pool.score({ prompt: '', completion: program, row: { test, entry_point: 'square', prompt: '' } }, [{ ref: 'code' }]);
}
async function js(program: string, test = JS_TEST): Promise<RewardResult> {
  return pool.score({ prompt: '', completion: program, row: { test, entry_point: 'square', prompt: '', language: 'javascript' } }, [{ ref: 'code' }]);
}
const PY_OK = 'def square(x):\n    return x * x\n';
const JS_OK = 'function square(x) { return x * x; }';

async function expectBenign(): Promise<void> {
  expect((await py(PY_OK)).status).toBe('ok');
  expect((await js(JS_OK)).status).toBe('ok');
}

describe('hostile Python', () => {
  it.each([
    // On a loaded machine the interrupt may not land within the grace period; then the worker is replaced. Both are timeouts.
    ['an infinite loop', 'while True:\n    pass\n' + PY_OK, 'timeout', /interrupted|time|ignored the interrupt/],
    ['a loop that swallows the interrupt', 'while True:\n    try:\n        while True: pass\n    except BaseException:\n        pass\n', 'timeout', /ignored the interrupt/],
    // Growth to the ceiling takes time, so on a loaded machine the deadline may come first:
    // either way the bomb is contained. The ceiling itself is tested where time cannot interfere.
    ['a memory bomb', 'x = []\nwhile True:\n    x.append(bytearray(5 * 10**7))\n', 'wrong|timeout', /memory|interrupted|time|ignored the interrupt/i],
    ['one allocation past the memory ceiling', 'x = bytearray(2 * 10**9)\n' + PY_OK, 'wrong', /memory/i],
    ['deep recursion', 'import sys\nsys.setrecursionlimit(10**6)\ndef f(n):\n    return f(n + 1)\nf(0)\n' + PY_OK, 'wrong', /Recursion|stack/i],
    ['huge output', 'print("x" * 10**7)\n' + PY_OK, 'ok', null],
    ['infinite output', 'while True:\n    print("spam")\n', 'timeout', /interrupted|time|ignored the interrupt/],
    ['reading /etc/passwd', 'open("/etc/passwd").read()\n' + PY_OK, 'wrong', /FileNotFoundError/],
    ['reading the repo', `open(${JSON.stringify(`${process.cwd()}/package.json`)}).read()\n` + PY_OK, 'wrong', /FileNotFoundError/],
    ['network through sockets', 'import socket\n' + PY_OK, 'wrong', /not allowed/],
    ['network through urllib', 'import urllib.request\nurllib.request.urlopen("http://127.0.0.1:9")\n' + PY_OK, 'wrong', /not allowed|Error/],
    ['the JS bridge', 'import js\njs.process.exit(1)\n' + PY_OK, 'wrong', /not allowed/],
    ['os._exit', 'import os\nos._exit(0)\n', 'wrong', /exited|not allowed/],
    ['sys.exit', 'import sys\nsys.exit(0)\n', 'wrong', /exited/],
    ['spawning a process', 'import subprocess\nsubprocess.run(["ls"])\n', 'wrong', /not allowed/],
    ['os.system', 'import os\nos.system("ls")\n' + PY_OK, 'wrong', /not allowed|exited/],
    ['a rigged __eq__', 'class Yes:\n    def __eq__(self, other):\n        return True\ndef square(x):\n    return Yes()\n', 'wrong', /not a plain built-in/],
    ['an int subclass with a rigged __eq__', 'class Four(int):\n    def __eq__(self, other):\n        return True\ndef square(x):\n    return Four(0)\n', 'wrong', /not a plain built-in/],
    ['patching builtins', 'import builtins\nbuiltins.abs = lambda x: 0\ndef square(x):\n    return 0\n', 'wrong', /Assertion/, 'def check(candidate):\n    assert abs(candidate(2) - 4) < 1e-9\n'],
    ['patching a module the test uses', 'import math\nmath.isclose = lambda *a, **k: True\ndef square(x):\n    return 0\n', 'wrong', /Assertion/, 'import math\ndef check(candidate):\n    assert math.isclose(candidate(2), 4)\n'],
    ['shadowing a builtin in its globals', 'def abs(x):\n    return 0\ndef square(x):\n    return 0\n', 'wrong', /Assertion/, 'def check(candidate):\n    assert abs(candidate(2) - 4) < 1e-9\n'],
    ['a tracer that skips asserts', 'import sys\nsys.settrace(lambda *a: None)\n' + PY_OK, 'wrong', /settrace/],
  ])('%s', async (_, program, status, reason, test?: string) => {
    const t0 = performance.now();
    const r = await py(program, test);
    expect(status.split('|'), `${r.status}: ${r.reason ?? ''}`).toContain(r.status);
    if (reason) expect(r.reason).toMatch(reason);
    expect(performance.now() - t0).toBeLessThan(15_000);
    await expectBenign();
  });

  it.each([
    ['getattr(math, "__dict__")', 'import math\ngetattr(math, "__dict__")["pi"] = 3\n'],
    ['os.environ via from-import', 'from os import environ\nenviron["LEAK"] = "1"\n'],
    ['an alias of a module', 'import math\nm = math\nm.pi = 3\n'],
    ['chdir', 'import os\nos.chdir("/tmp")\n'],
    ['pickle calling setattr', 'import pickle\npickle.loads(b"cbuiltins\\nsetattr\\n(cmath\\npi\\nS\\"pi\\"\\nI3\\ntR.")\n'],
  ])('leaks nothing through %s', async (_, attack) => {
    await py(attack + PY_OK);
    const check = 'import math, os\nassert math.pi > 3.14, "math.pi"\nassert "LEAK" not in os.environ, "environ"\nassert os.getcwd() == "/home/pyodide", "cwd"\n' + PY_OK;
    const r = await py(check);
    expect(r.status, r.reason ?? '').toBe('ok');
  });

  it('leaks no state from one task to the next', async () => {
    const dirty =
      'import builtins, math, sys, os, random\n' +
      'builtins.leaked = 1\nmath.pi = 3\nsys.setrecursionlimit(50)\nrandom.seed(123)\n' +
      'open("/tmp/leak.txt", "w").write("x")\nos.makedirs("/home/pyodide/leakdir", exist_ok=True)\n' +
      'GLOBAL_LEAK = 1\n' + PY_OK;
    expect((await py(dirty)).status).toBe('ok');
    const clean =
      'import builtins, math, sys, os, random\n' +
      'assert not hasattr(builtins, "leaked"), "builtins"\nassert math.pi > 3.14, "math.pi"\n' +
      'assert sys.getrecursionlimit() > 50, "recursion limit"\nassert not os.path.exists("/tmp/leak.txt"), "file"\n' +
      'assert not os.path.exists("/home/pyodide/leakdir"), "dir"\nassert "GLOBAL_LEAK" not in globals(), "global"\n' +
      PY_OK;
    for (let i = 0; i < 4; i++) {
      const r = await py(clean);
      expect(r.status, r.reason ?? '').toBe('ok');
    }
  });
});

describe('hostile JavaScript', () => {
  it.each([
    ['an infinite loop', 'while (true) {}', 'timeout', /interrupted/],
    ['a memory bomb', 'const a = []; while (true) a.push(new Array(1e6).fill(1));', 'wrong', /memory/i],
    ['deep recursion', 'function f() { return f(); } f();', 'wrong', /stack|Range/i],
    ['huge output', 'console.log("x".repeat(1e7));' + JS_OK, 'ok', null],
    ['infinite output', 'while (true) console.log("spam");', 'timeout', /interrupted/],
    ['reading files', 'require("fs").readFileSync("/etc/passwd");', 'wrong', /require/],
    ['network', 'fetch("http://127.0.0.1:9");', 'wrong', /fetch/],
    ['process.exit', 'process.exit(0);', 'wrong', /process/],
    ['patching JSON to fake a pass', 'JSON.stringify = () => "[1]";\nfunction square(x) { return [0]; }', 'wrong', /AssertionError/, 'function check(c) { if (JSON.stringify(c(2)) !== "[1]") throw new Error("AssertionError: wrong"); }'],
    ['a rigged object', 'function square(x) { return { valueOf() { return 4; } }; }', 'wrong', /not plain data|AssertionError/, 'function check(c) { if (c(2) != 4) throw new Error("AssertionError"); }'],
  ])('%s', async (_, program, status, reason, test?: string) => {
    const r = await js(program, test);
    expect(r.status, r.reason ?? '').toBe(status);
    if (reason) expect(r.reason).toMatch(reason);
    await expectBenign();
  });

  it('leaks no state from one task to the next', async () => {
    expect((await js('globalThis.leak = 1; ' + JS_OK)).status).toBe('ok');
    expect((await js('if (typeof leak !== "undefined") throw new Error("leaked"); ' + JS_OK)).status).toBe('ok');
  });
});

describe('custom rewards that misbehave', () => {
  const sample = { prompt: 'p', completion: 'c', row: {} };
  it.each([
    ['throws', 'crashed', /threw: reward bug/],
    ['nan', 'crashed', /score NaN/],
    ['hangs', 'timeout', /longer than/],
    ['exits', 'crashed', /worker died|exit/],
    ['not-a-reward', 'crashed', /must export a non-empty string 'id'/],
  ])('%s → %s', async (name, status, reason) => {
    const quick = new RewardPool({ size: 1, taskTimeoutMs: 1500 });
    try {
      const r = await quick.score(sample, [{ ref: `test/fixtures/rewards/${name}.mjs` }]);
      expect(r.status).toBe(status);
      expect(r.score).toBeNull();
      expect(r.reason).toMatch(reason);
      const ok = await quick.score(sample, [{ ref: 'test/fixtures/rewards/length.mjs' }]);
      expect(ok.status).toBe('ok');
    } finally {
      await quick.close();
    }
  });
});
