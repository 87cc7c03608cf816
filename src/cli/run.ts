/** `warmup run PIPELINE` and `warmup report RUN_DIR`. */
import { Command } from 'commander';
import { repeatable } from './common.js';

/** `command` runs one warmup command line for a pipeline's stages (the CLI's own `main`). */
export function runCommands(command: (args: readonly string[]) => Promise<number>): Command[] {
  const run = new Command('run')
    .description('run a pipeline file (pipelines/NAME.ts) in a run folder; re-running the same folder resumes at the first unfinished stage')
    .argument('<pipeline>', 'pipeline file, e.g. pipelines/two-stage.ts')
    .option('--preset <name>', 'one of the pipeline’s presets', 'default')
    .option('--set <key=value>', 'override one config key (unknown keys are an error); repeatable', repeatable, [] as string[])
    .option('--out <dir>', 'run folder (default: runs/NAME-PRESET)')
    .action(async (file: string, flags: { preset: string; set: string[]; out?: string }) => {
      const { runPipeline } = await import('../pipeline/runner.js');
      await runPipeline(file, { preset: flags.preset, set: flags.set, ...(flags.out ? { out: flags.out } : {}), command });
    });
  const report = new Command('report')
    .description('rebuild a run folder’s report (report.html, report.json, charts/*.svg) from its Arrow files and evaluation summaries')
    .argument('<run>', 'run folder')
    .action(async (dir: string) => {
      const { collectReport, reportText, writeReport } = await import('../report/report.js');
      const out = await writeReport(dir);
      process.stdout.write(`${reportText(await collectReport(dir))}report: ${out.html}\n`);
    });
  return [run, report];
}
