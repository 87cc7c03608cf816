/**
 * Progress on stderr for long commands: one line rewritten in place on a terminal,
 * a plain line every few seconds otherwise (CI logs, pipes). Never writes to stdout,
 * which stays clean for `--json` output.
 */
export interface ProgressOptions {
  readonly label: string;
  readonly total?: number;
  readonly unit?: string;
  /** Defaults to process.stderr. */
  readonly stream?: NodeJS.WriteStream;
  /** Silence everything (for --quiet or tests). */
  readonly quiet?: boolean;
  /**
   * Work done before this run started (a resumed run's steps): counted in the bar, left
   * out of the rate and the ETA, so a resume does not report its old steps as instant.
   */
  readonly initial?: number;
}

const fmtRate = (r: number): string => (r >= 100 ? Math.round(r).toLocaleString('en-US') : r.toFixed(1));

function fmtTime(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/** A progress line: `update(done)` as work advances, `finish()` at the end. */
export class Progress {
  private readonly start = performance.now();
  private lastDraw = 0;
  private done: number;
  private extra = '';
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;

  constructor(private readonly options: ProgressOptions) {
    this.stream = options.stream ?? process.stderr;
    this.tty = this.stream.isTTY === true;
    this.done = options.initial ?? 0;
  }

  /** Records progress; redraws at most 10×/s on a terminal, every 5 s otherwise. */
  update(done: number, extra = ''): void {
    this.done = done;
    this.extra = extra;
    const now = performance.now();
    if (now - this.lastDraw >= (this.tty ? 100 : 5000)) {
      this.lastDraw = now;
      this.draw(false);
    }
  }

  /** Elapsed seconds. */
  get seconds(): number {
    return (performance.now() - this.start) / 1000;
  }

  private line(): string {
    const { label, total, unit = 'items' } = this.options;
    const rate = (this.done - (this.options.initial ?? 0)) / Math.max(this.seconds, 1e-9);
    const parts = [label];
    if (total !== undefined && total > 0) {
      const pct = (100 * this.done) / total;
      const width = 24;
      const fill = Math.round((width * Math.min(this.done, total)) / total);
      parts.push(`[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${this.done}/${total} (${pct.toFixed(0)}%)`);
      parts.push(`${fmtRate(rate)} ${unit}/s`, `ETA ${fmtTime((total - this.done) / rate)}`);
    } else {
      parts.push(`${this.done} ${unit}`, `${fmtRate(rate)} ${unit}/s`);
    }
    if (this.extra) parts.push(this.extra);
    return parts.join('  ');
  }

  private draw(final: boolean): void {
    if (this.options.quiet) return;
    if (this.tty) this.stream.write(`\r\x1b[2K${this.line()}${final ? '\n' : ''}`);
    else this.stream.write(`${this.line()}\n`);
  }

  /** Draws the final line with the elapsed time. */
  finish(extra = this.extra): void {
    this.extra = extra ? `${extra}  in ${fmtTime(this.seconds)}` : `in ${fmtTime(this.seconds)}`;
    this.draw(true);
  }
}
