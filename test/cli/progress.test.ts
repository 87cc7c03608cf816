import { afterEach, describe, expect, it, vi } from 'vitest';
import { Progress } from '../../src/cli/progress.js';

/** A non-terminal stream that keeps what is written. */
function sink(): { stream: NodeJS.WriteStream; lines: string[] } {
  const lines: string[] = [];
  return { stream: { isTTY: false, write: (s: string) => lines.push(s) !== 0 } as unknown as NodeJS.WriteStream, lines };
}

describe('Progress', () => {
  afterEach(() => vi.restoreAllMocks());

  it('leaves a resumed run’s earlier work out of the rate and the ETA', () => {
    const now = vi.spyOn(performance, 'now').mockReturnValue(0);
    const { stream, lines } = sink();
    const p = new Progress({ label: 'sft', total: 1000, unit: 'steps', stream, initial: 750 });
    now.mockReturnValue(10_000); // 10 steps in 10 s
    p.update(760);
    expect(lines[0]).toContain('760/1000 (76%)');
    expect(lines[0]).toContain('1.0 steps/s');
    expect(lines[0]).toContain('ETA 4m00s');
  });

  it('counts from zero without `initial`', () => {
    const now = vi.spyOn(performance, 'now').mockReturnValue(0);
    const { stream, lines } = sink();
    const p = new Progress({ label: 'sft', total: 100, unit: 'steps', stream });
    now.mockReturnValue(10_000);
    p.update(20);
    expect(lines[0]).toContain('2.0 steps/s');
    expect(lines[0]).toContain('ETA 40s');
  });
});
