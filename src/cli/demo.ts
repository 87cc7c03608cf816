/**
 * `warmup demo` (what `npm start` runs until the full pipelines land): streams seeded
 * K&K puzzles through the RxJS flow into an Arrow stream, re-reads the file, re-checks
 * every puzzle from its text alone, and prints a sample and the figures.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { lastValueFrom, map, reduce, tap } from 'rxjs';
import { puzzleToRecord } from '../kk/records.js';
import { PUZZLES, withRunMetadata, type PuzzleRecord } from '../data/schemas.js';
import { checkRecord } from '../kk/check.js';
import { kkGenerate } from '../stages/kk-generate.js';
import { readDataset, tapArrowStream } from '../stages/io.js';
import { intOption, parsePeople, setExitCode } from './common.js';
import { Progress } from './progress.js';

interface DemoFlags {
  out: string;
  count: number;
  people: number[];
  seed: number;
}

async function demo(flags: DemoFlags): Promise<void> {
  await mkdir(flags.out, { recursive: true });
  const path = join(flags.out, 'puzzles.arrows');
  const config = { command: 'demo', people: flags.people, count: flags.count, seed: flags.seed };
  const gen = new Progress({ label: 'generate', total: flags.count, unit: 'puzzles' });
  let first: PuzzleRecord | undefined;
  const made = await lastValueFrom(
    kkGenerate({ people: flags.people, count: flags.count, seed: flags.seed }).pipe(
      map(puzzleToRecord),
      tapArrowStream<PuzzleRecord>(path, withRunMetadata(PUZZLES, config), { batchSize: 256 }),
      tap((r) => (first ??= r)),
      reduce((n) => {
        gen.update(n + 1);
        return n + 1;
      }, 0),
    ),
    { defaultValue: 0 },
  );
  gen.finish(`-> ${path}`);
  const genSeconds = gen.seconds;
  const check = new Progress({ label: 're-check', total: made, unit: 'puzzles' });
  const tally = await lastValueFrom(
    readDataset<PuzzleRecord>(path).pipe(
      map((r) => checkRecord({ id: r.id, quiz: r.quiz, names: r.names, solution: r.solution })),
      reduce((t, r, i) => {
        check.update(i + 1);
        return { n: t.n + 1, agree: t.agree + (r.agree ? 1 : 0) };
      }, { n: 0, agree: 0 }),
    ),
  );
  check.finish();
  const rate = Math.round(made / genSeconds).toLocaleString('en-US');
  const lines = [
    '',
    'Sample puzzle:',
    `  ${first?.quiz ?? '(none)'}`,
    'Solution:',
    ...(first?.solution_text_format.split('\n').map((l) => `  ${l}`) ?? []),
    '',
    `Generated ${made} puzzles (N = ${flags.people.join(', ')}) at ${rate} puzzles/s, streamed to ${path}.`,
    `Re-parsed and re-solved from the quiz text alone: ${tally.agree}/${tally.n} agree with the recorded solution.`,
    `Look inside:  npx warmup data show ${path} --head 1`,
    `Re-check:     npx warmup kk solve ${path}`,
    '',
  ];
  process.stdout.write(lines.join('\n'));
  if (tally.agree !== tally.n || tally.n !== flags.count) setExitCode(1);
}

export function demoCommand(): Command {
  return new Command('demo')
    .description('generate K&K puzzles through the streaming flow, re-check them, and show a sample')
    .option('--out <dir>', 'output folder', 'runs/demo')
    .option('--count <n>', 'puzzles to generate', intOption('--count', 1), 4500)
    .addOption(new Option('--people <n>', 'islanders per puzzle: N, LOW-HIGH or N,M,…').default([3, 4, 5, 6, 7], '3-7').argParser(parsePeople))
    .option('--seed <n>', 'run seed', intOption('--seed', 0, 0xffffffff), 42)
    .action((flags: DemoFlags) => demo(flags));
}
