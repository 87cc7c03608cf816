import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readHumanEval, type HumanEvalProblem as Problem } from '../../src/eval/humaneval.js';
import { RewardPool } from '../../src/reward/pool.js';
import { join } from 'node:path';
import { ROOT, sharedDataset } from '../helpers.js';

const shared = sharedDataset('humaneval/HumanEval.jsonl.gz');
const SOURCES = [
  { name: '2 committed problems', path: join(ROOT, 'test', 'fixtures', 'tasks', 'humaneval.jsonl'), count: 2 },
  ...(shared ? [{ name: '../shared, all 164', path: shared, count: 164 }] : []),
];

describe.each(SOURCES)('HumanEval in the Python sandbox ($name)', ({ path, count }) => {
  const problems = readHumanEval(path);
  let pool: RewardPool;
  beforeAll(() => {
    pool = new RewardPool({ size: 2 });
  });
  afterAll(() => pool.close());

  const run = (completion: (p: Problem) => string) =>
    Promise.all(problems.map((p) => pool.score({ prompt: p.prompt, completion: completion(p), row: { ...p } }, [{ ref: 'code' }])));

  it('passes every canonical solution', async () => {
    const results = await run((p) => p.canonical_solution);
    const failed = results.map((r, i) => [problems[i]?.task_id, r.reason]).filter((_, i) => results[i]?.status !== 'ok');
    expect(failed).toEqual([]);
    expect(results).toHaveLength(count);
  });

  it('fails every one when the bodies are replaced by pass', async () => {
    const results = await run(() => '    pass\n');
    const passed = problems.map((p) => p.task_id).filter((_, i) => results[i]?.status === 'ok');
    expect(passed).toEqual([]);
  });

  it('takes a fenced full function as well as a bare body', async () => {
    const p = problems[0] as Problem;
    const fenced = `Here you go:\n\`\`\`python\n${p.prompt}${p.canonical_solution}\`\`\`\n`;
    expect((await pool.score({ prompt: p.prompt, completion: fenced, row: { ...p } }, [{ ref: 'code' }])).status).toBe('ok');
  });
});
