/** `warmup run PIPELINE` and `warmup report RUN_DIR`. */
import { Command } from 'commander';

export function runCommands(): Command[] {
  const run = new Command('run')
    .description('run a pipeline file (pipelines/NAME.ts) in a run folder; re-running the same folder resumes at the first unfinished stage')
    .argument('<pipeline>', 'pipeline file, e.g. pipelines/two-stage.ts')
    .option('--preset <name>', 'one of the pipeline’s presets', 'default')
    .option('--set <key=value>', 'override one config key (unknown keys are an error); repeatable', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--out <dir>', 'run folder (default: runs/NAME-PRESET)')
    .action(async (file: string, flags: { preset: string; set: string[]; out?: string }) => {
      const { runPipeline } = await import('../pipeline/runner.js');
      const { main } = await import('./main.js');
      await runPipeline(file, { preset: flags.preset, set: flags.set, ...(flags.out ? { out: flags.out } : {}), command: (args) => main([...args]) });
    });
  const report = new Command('report')
    .description('rebuild a run folder’s report (report.html, report.json, charts/*.svg) from its Arrow files and evaluation summaries')
    .argument('<run>', 'run folder')
    .action(async (dir: string) => {
      const { accuracyTable, collectReport, writeReport } = await import('../report/report.js');
      const out = await writeReport(dir);
      const data = await collectReport(dir);
      const t = accuracyTable(data);
      if (t.rows.length > 0) {
        const w = Math.max(10, ...t.rows.map((r) => r.model.length));
        const cw = Math.max(18, ...t.sets.map((s) => s.length));
        const block = (title: string, cells: (r: (typeof t.rows)[number]) => string[]): string[] => [
          `${title.padEnd(w)}  ${t.sets.map((s) => s.padStart(cw)).join('  ')}`,
          ...t.rows.map((r) => `${r.model.padEnd(w)}  ${cells(r).map((c) => c.padStart(cw)).join('  ')}`),
        ];
        const lines = [...block('accuracy %', (r) => r.cells), '', ...block('format %', (r) => r.format)];
        process.stdout.write(`${lines.join('\n')}\n(accuracy with its 95% bootstrap interval over questions; format: answers that parse, right or wrong)\n`);
      }
      for (const [run, r] of Object.entries(data.rl)) {
        const l = r.learning;
        if (!l) continue;
        const f = (x: number): string => x.toFixed(3);
        process.stdout.write(`${run}: pass rate ${f(l.first_quarter_pass)} (first quarter of ${r.steps} steps) -> ${f(l.last_quarter_pass)} (last), shift ${f(l.shift.mean)} [${f(l.shift.lo)}, ${f(l.shift.hi)}]; learning signal ${l.mean_signal?.toFixed(2) ?? '?'}\n`);
      }
      process.stdout.write(`report: ${out.html}\n`);
    });
  return [run, report];
}
