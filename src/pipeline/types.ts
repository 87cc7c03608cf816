/**
 * The pipeline contract. A pipeline file (`pipelines/NAME.ts`) default-exports a
 * `Pipeline`: typed presets and a `run` that composes stages. It imports only types
 * from warmup; the runner hands it everything it needs in the context.
 *
 * @example
 * import type { Pipeline } from 'warmup';
 * interface Config { puzzles: number; seed: number }
 * export default {
 *   name: 'mine',
 *   description: 'puzzles, then traces',
 *   presets: { default: { puzzles: 100, seed: 0 } },
 *   async run(ctx) {
 *     await ctx.stage('puzzles', () => ctx.warmup(['kk', 'generate', '--count', String(ctx.config.puzzles), '--out', ctx.path('puzzles.arrow')]));
 *   },
 * } satisfies Pipeline<Config>;
 */

/** A config value `--set key=value` can override. */
export type PipelineValue = string | number | boolean | readonly string[] | readonly number[];

export interface PipelineContext<C> {
  /** The resolved config: the preset with the --set overrides. */
  readonly config: C;
  readonly preset: string;
  /** The run folder. */
  readonly dir: string;
  /** A path inside the run folder. */
  path(...parts: string[]): string;
  /**
   * Runs a stage unless an earlier run of this folder finished it (then logs that it is
   * skipped). A stage that was interrupted runs again; the commands it calls resume
   * their own outputs where they can.
   */
  stage(name: string, run: () => Promise<void>): Promise<void>;
  /** Whether a stage has finished (in this run or an earlier one). */
  finished(name: string): boolean;
  /** Runs a warmup command in this process (`['sft', '--data', …]`); throws if it fails. */
  warmup(args: readonly string[]): Promise<void>;
  log(line: string): void;
}

export interface Pipeline<C extends { readonly [key: string]: PipelineValue }> {
  readonly name: string;
  readonly description: string;
  /** Named configs; `default` is used when no --preset is given. */
  readonly presets: { readonly default: C } & { readonly [name: string]: C };
  run(ctx: PipelineContext<C>): Promise<void>;
}
