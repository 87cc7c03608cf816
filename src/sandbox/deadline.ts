/**
 * The deadline of a Python check, kept inside the sandbox worker that runs it.
 *
 * Pyodide stops running Python only when something writes SIGINT into its interrupt
 * buffer, and the worker itself cannot: it is inside the interpreter, synchronously,
 * until the check ends. The pool's main thread did it, on a timer; but that thread
 * also runs TF.js generation, which holds it for seconds at a time, so the interrupt
 * came late (and checks ran past their limit) whenever generation was busy. Here a
 * small timer thread owned by the worker does it instead: it sleeps in `Atomics.wait`
 * until the deadline the worker armed, writes the interrupt, and needs no event loop
 * of anyone else. The pool's main thread keeps only a backstop for a program that
 * ignores the interrupt (see `pool.ts`).
 */
import { Worker } from 'node:worker_threads';

/** Slots of the cell shared by the worker and its timer thread. */
const SLOT = {
  /** Pyodide's interrupt flag: the timer thread writes 2 (SIGINT) at the deadline. */
  interrupt: 0,
  /** Bumped on every arm and disarm, so the timer thread's wait ends and it rereads the deadline. */
  seq: 1,
  /** ms since the timer's `origin` at which to interrupt; 0: disarmed. */
  deadline: 2,
} as const;

// CommonJS, evaluated as the thread's script: no loader, nothing imported but the cell.
// On a wait that ends early (a new arm, a spurious wake) it recomputes what is left, so
// the deadline is the armed one however often it wakes.
const TIMER_THREAD = String.raw`
const { workerData } = require('node:worker_threads');
const cell = new Int32Array(workerData.buffer);
const origin = workerData.origin;
for (;;) {
  const seq = Atomics.load(cell, ${SLOT.seq});
  const deadline = Atomics.load(cell, ${SLOT.deadline});
  if (deadline === 0) { Atomics.wait(cell, ${SLOT.seq}, seq); continue; }
  const left = deadline - (Date.now() - origin);
  if (left > 0) { Atomics.wait(cell, ${SLOT.seq}, seq, left); continue; }
  Atomics.store(cell, ${SLOT.interrupt}, 2);
  Atomics.wait(cell, ${SLOT.seq}, seq);
}
`;

/**
 * Interrupts the Python check of this thread `ms` after `arm(ms)`, unless `disarm()`
 * comes first. One per sandbox worker; its thread ends with the worker.
 */
export class DeadlineTimer {
  /** The buffer to hand Pyodide's `setInterruptBuffer`. */
  readonly interrupt: Int32Array;
  private readonly cell: Int32Array;
  private readonly origin = Date.now();
  private thread: Worker | null = null;

  constructor() {
    this.cell = new Int32Array(new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT));
    this.interrupt = this.cell.subarray(SLOT.interrupt, SLOT.interrupt + 1);
  }

  /** Starts the thread on first use, and again if it died (the next check still gets a deadline). */
  private ensureThread(): void {
    if (this.thread) return;
    const thread = new Worker(TIMER_THREAD, {
      eval: true,
      workerData: { buffer: this.cell.buffer, origin: this.origin },
      // Not the parent's flags: a worker run from TypeScript sources has `--import tsx`,
      // which would load a compiler into a thread that only waits.
      execArgv: [],
      resourceLimits: { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 2 },
      stdout: false,
      stderr: false,
    });
    // It must never keep a worker alive, nor take it down with it.
    thread.unref();
    const forget = (): void => {
      if (this.thread === thread) this.thread = null;
    };
    thread.on('error', forget);
    thread.on('exit', forget);
    this.thread = thread;
  }

  /** Clears the interrupt flag and sets the deadline `ms` from now. */
  arm(ms: number): void {
    this.ensureThread();
    Atomics.store(this.cell, SLOT.interrupt, 0);
    Atomics.store(this.cell, SLOT.deadline, Math.max(1, Date.now() - this.origin + Math.max(0, Math.ceil(ms))));
    Atomics.add(this.cell, SLOT.seq, 1);
    Atomics.notify(this.cell, SLOT.seq);
  }

  /**
   * No deadline until the next `arm`. An interrupt written in the instant before this
   * stays in the flag; `arm` clears it before the next check runs.
   */
  disarm(): void {
    Atomics.store(this.cell, SLOT.deadline, 0);
    Atomics.add(this.cell, SLOT.seq, 1);
    Atomics.notify(this.cell, SLOT.seq);
  }
}
