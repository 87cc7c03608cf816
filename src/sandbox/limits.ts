/** Limits and results shared by the code sandboxes. */

/** Resource limits of one code check. */
export interface SandboxLimits {
  /** Wall-clock limit of the program plus its tests. */
  readonly timeoutMs: number;
  /** Memory ceiling of the interpreter, MiB. */
  readonly memoryMb: number;
  /** Bytes of stdout/stderr kept; the rest is dropped and flagged. */
  readonly outputBytes: number;
}

/** Defaults: HumanEval's 3 s per check; memory to fit two workers on a small machine. */
export const DEFAULT_LIMITS: SandboxLimits = { timeoutMs: 3000, memoryMb: 512, outputBytes: 64 * 1024 };

/** How a code check ended. */
export type CheckStatus = 'passed' | 'failed' | 'error' | 'exited' | 'timeout' | 'memory' | 'crashed';

export interface CheckResult {
  readonly status: CheckStatus;
  /** What failed, e.g. the assertion message; empty on a pass. */
  readonly detail: string;
  /** Captured output, at most `outputBytes`. */
  readonly output: string;
  readonly outputTruncated: boolean;
  readonly ms: number;
}

/** One program and its tests. `entryPoint` names the function the tests' `check(candidate)` receives. */
export interface CodeTask {
  readonly program: string;
  readonly test: string;
  readonly entryPoint: string | null;
}

/** Collects output up to a byte cap. */
export class OutputCap {
  private parts: string[] = [];
  private bytes = 0;
  truncated = false;

  constructor(private readonly cap: number) {}

  write(text: string): void {
    if (this.bytes >= this.cap) {
      this.truncated = true;
      return;
    }
    const room = this.cap - this.bytes;
    const piece = text.length > room ? text.slice(0, room) : text;
    if (piece.length < text.length) this.truncated = true;
    this.parts.push(piece);
    this.bytes += piece.length;
  }

  text(): string {
    return this.parts.join('');
  }
}
