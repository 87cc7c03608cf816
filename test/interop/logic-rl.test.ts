// Interop with the published data: every Logic-RL K&K record (3–7 people, train and
// test, 5,000 in all) is re-parsed from its quiz text, solved, and compared with the
// recorded solution, and the parsed statement trees equal the recorded ones.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRows } from '../../src/data/dataset.js';
import { puzzleFromRecord } from '../../src/kk/records.js';
import { checkRecord } from '../../src/kk/check.js';
import { parseQuiz } from '../../src/kk/parse-quiz.js';
import { statementKey } from '../../src/kk/statement.js';
import { ROOT, sharedDataset } from '../helpers.js';

const root = sharedDataset('logic-rl-kk');
const FIXTURE = join(ROOT, 'test', 'fixtures', 'tasks', 'logic-rl-kk.parquet');

/** Reads every record of `files`, solves it, and compares with the recorded solution and statement trees. */
async function checkFiles(files: readonly string[]): Promise<{ records: number; agree: number; sameTrees: number; failures: string[] }> {
  let records = 0;
  let agree = 0;
  let sameTrees = 0;
  const failures: string[] = [];
  for (const path of files) {
    let row = 0;
    for await (const r of readRows(path)) {
      const puzzle = puzzleFromRecord(r, row++);
      const result = checkRecord({ id: puzzle.id, quiz: puzzle.quiz, names: puzzle.names, solution: puzzle.solution });
      records++;
      if (result.agree) agree++;
      else if (failures.length < 5) failures.push(`${path} row ${row - 1}: ${result.reason}`);
      const parsed = parseQuiz(puzzle.quiz);
      if (parsed.statements.map(statementKey).join(';') === puzzle.statements.map(statementKey).join(';')) sameTrees++;
      // The Logic-RL prompt embeds the same quiz.
      expect(String((r.prompt as { content: string }[])[0]?.content)).toContain(puzzle.quiz);
    }
  }
  return { records, agree, sameTrees, failures };
}

describe('Logic-RL K&K parquet (3 committed rows)', () => {
  it('solves every record and agrees with every recorded solution', async () => {
    expect(await checkFiles([FIXTURE])).toEqual({ records: 3, agree: 3, sameTrees: 3, failures: [] });
  });
});

describe.skipIf(root === null)('Logic-RL K&K parquet (../shared)', () => {
  it('solves all 5,000 records and agrees with every recorded solution', async () => {
    const files = [3, 4, 5, 6, 7].flatMap((n) => ['train', 'test'].map((s) => `${root}/${n}ppl/${s}.parquet`));
    expect(await checkFiles(files)).toEqual({ records: 5000, agree: 5000, sameTrees: 5000, failures: [] });
  });
});
