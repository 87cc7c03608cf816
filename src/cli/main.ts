/**
 * The `warmup` command line.
 *
 * @example
 * warmup kk generate --people 3-7 --count 4500 --seed 42 --out puzzles.arrow
 * warmup kk solve puzzles.arrow --json
 * warmup data show puzzles.arrow --head 2
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { takeExitCode } from './common.js';
import { kkCommands } from './kk.js';
import { dataCommands } from './data.js';
import { demoCommand } from './demo.js';
import { rewardCommands } from './reward.js';
import { modelCommands } from './model.js';
import { rlvrCommands } from './rlvr.js';
import { evalCommand } from './eval.js';
import { runCommands } from './run.js';
import { tracesCommand } from './traces.js';
import { serveCommand } from './serve.js';
import { worldCommand } from './world.js';
import { explainWasmAbort, isWasmAbort } from '../model/memory.js';

/** The version in package.json (two folders up from src/cli and from dist/cli alike). */
function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

export function makeProgram(): Command {
  const program = new Command('warmup')
    .description(
      'Train reasoning models when good data is scarce: Knights & Knaves warmup data and teachers, verifiable rewards in a sandbox, a TensorFlow.js student with SFT and GRPO, evaluation, and pipelines with reports, all streamed as Arrow datasets. npm start runs pipelines/two-stage.ts.',
    )
    .version(packageVersion(), '-V, --version', 'print the version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  program.addCommand(kkCommands());
  program.addCommand(dataCommands());
  program.addCommand(demoCommand());
  for (const c of rewardCommands()) program.addCommand(c);
  for (const c of modelCommands()) program.addCommand(c);
  for (const c of rlvrCommands()) program.addCommand(c);
  program.addCommand(evalCommand());
  for (const c of runCommands((args) => main(args))) program.addCommand(c);
  program.addCommand(tracesCommand());
  program.addCommand(serveCommand());
  program.addCommand(worldCommand());
  for (const c of program.commands) {
    c.exitOverride();
    for (const s of c.commands) s.exitOverride();
  }
  return program;
}

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = makeProgram();
  try {
    takeExitCode();
    await program.parseAsync([...argv], { from: 'user' });
    return takeExitCode();
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version exit 0; commander already printed usage errors.
      return e.exitCode;
    }
    const message = isWasmAbort(e) ? explainWasmAbort(e) : e instanceof Error ? e.message : String(e);
    process.stderr.write(`warmup: error: ${message}\n`);
    if (process.env.WARMUP_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    return 1;
  }
}
