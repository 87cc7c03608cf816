/**
 * Runs a pipeline file: loads it (TypeScript through tsx), resolves the preset and
 * `--set` overrides against the preset's own keys and types, and runs its stages in
 * a run folder with per-stage completion markers, so re-running the same folder
 * resumes at the first unfinished stage.
 *
 * Run folder: pipeline.json (pipeline, preset, resolved config), stages/NAME.json (one
 * per finished stage, with its wall time), and whatever the stages write.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { changedKeys } from '../util/config-diff.js';
import type { Pipeline, PipelineContext, PipelineValue } from './types.js';

type AnyPipeline = Pipeline<Record<string, PipelineValue>>;

let tsxRegistered = false;

/** Loads a pipeline module (.ts or .js) and checks its shape. */
export async function loadPipeline(file: string): Promise<AnyPipeline> {
  const path = resolve(file);
  if (!existsSync(path)) throw new Error(`${file}: no such pipeline file (see pipelines/ for the built-in ones)`);
  if (/\.[cm]?ts$/.test(path)) {
    // tsx's loader, registered once for this process: pipeline files are TypeScript.
    if (!tsxRegistered) {
      const { register } = await import('tsx/esm/api');
      register();
      tsxRegistered = true;
    }
  }
  const mod = (await import(pathToFileURL(path).href)) as { default?: Partial<AnyPipeline> };
  const p = mod.default;
  if (!p || typeof p.name !== 'string' || typeof p.run !== 'function' || !p.presets || typeof p.presets.default !== 'object') {
    throw new Error(`${file}: a pipeline must default-export { name, description, presets: { default: {...} }, run(ctx) }`);
  }
  return p as AnyPipeline;
}

function parseValue(key: string, text: string, like: PipelineValue): PipelineValue {
  if (typeof like === 'number') {
    const v = Number(text);
    if (text.trim() === '' || !Number.isFinite(v)) throw new Error(`--set ${key}: expected a number, got ${JSON.stringify(text)}`);
    return v;
  }
  if (typeof like === 'boolean') {
    if (text !== 'true' && text !== 'false') throw new Error(`--set ${key}: expected true or false, got ${JSON.stringify(text)}`);
    return text === 'true';
  }
  if (Array.isArray(like)) {
    const parts = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (like.length > 0 && typeof like[0] === 'number') {
      const nums = parts.map(Number);
      if (nums.some((n) => !Number.isFinite(n))) throw new Error(`--set ${key}: expected comma-separated numbers, got ${JSON.stringify(text)}`);
      return nums;
    }
    return parts;
  }
  return text;
}

/** The preset with `key=value` overrides; an unknown key or a value of the wrong type is an error. */
export function resolveConfig(p: AnyPipeline, preset: string, sets: readonly string[]): Record<string, PipelineValue> {
  const base = p.presets[preset];
  if (!base) throw new Error(`pipeline '${p.name}' has no preset '${preset}' (presets: ${Object.keys(p.presets).join(', ')})`);
  const out: Record<string, PipelineValue> = { ...base };
  for (const s of sets) {
    const m = /^([^=]+)=(.*)$/s.exec(s);
    if (!m) throw new Error(`--set takes key=value, got ${JSON.stringify(s)}`);
    const key = (m[1] as string).trim();
    if (!(key in base)) throw new Error(`--set ${key}: unknown key for pipeline '${p.name}' (keys: ${Object.keys(base).join(', ')})`);
    out[key] = parseValue(key, m[2] as string, base[key] as PipelineValue);
  }
  return out;
}

export interface RunOptions {
  readonly preset?: string;
  readonly set?: readonly string[];
  /** Run folder (default runs/NAME-PRESET). */
  readonly out?: string;
  readonly log?: (line: string) => void;
  /** Runs a warmup command in-process; returns its exit code. */
  readonly command: (args: readonly string[]) => Promise<number>;
}

/** Runs `file` and returns its run folder. */
export async function runPipeline(file: string, options: RunOptions): Promise<string> {
  const p = await loadPipeline(file);
  const preset = options.preset ?? 'default';
  const config = resolveConfig(p, preset, options.set ?? []);
  const dir = resolve(options.out ?? join('runs', `${p.name}-${preset}`));
  const log = options.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  await mkdir(join(dir, 'stages'), { recursive: true });
  const manifest = join(dir, 'pipeline.json');
  if (existsSync(manifest)) {
    const prev = JSON.parse(await readFile(manifest, 'utf8')) as { pipeline: string; config: Record<string, unknown> };
    const changed = changedKeys(prev.config, config);
    if (prev.pipeline !== p.name || changed.length > 0) {
      throw new Error(`${dir} holds a run of '${prev.pipeline}' with a different config (${changed.join(', ') || 'pipeline'}); use another --out, or the same --preset/--set to resume it`);
    }
    log(`resuming ${dir}`);
  }
  await writeFile(manifest, `${JSON.stringify({ pipeline: p.name, file: basename(file), preset, config }, null, 2)}\n`);
  const marker = (name: string): string => join(dir, 'stages', `${name}.json`);
  const started = performance.now();
  const ctx: PipelineContext<Record<string, PipelineValue>> = {
    config,
    preset,
    dir,
    path: (...parts) => join(dir, ...parts),
    finished: (name) => existsSync(marker(name)),
    log,
    async warmup(args) {
      const code = await options.command(args);
      if (code !== 0) throw new Error(`stage command failed (exit ${code}): warmup ${args.join(' ')}`);
    },
    async stage(name, run) {
      if (!/^[\w.-]+$/.test(name)) throw new Error(`stage name ${JSON.stringify(name)}: use letters, digits, '.', '_' and '-'`);
      if (existsSync(marker(name))) {
        log(`stage ${name}: done in an earlier run, skipped`);
        return;
      }
      log(`stage ${name}: running`);
      const t0 = performance.now();
      await run();
      const seconds = (performance.now() - t0) / 1000;
      await writeFile(marker(name), `${JSON.stringify({ name, seconds, finished_at: new Date().toISOString() })}\n`);
      log(`stage ${name}: done in ${seconds.toFixed(1)} s`);
    },
  };
  await p.run(ctx);
  log(`pipeline ${p.name} (${preset}) finished in ${((performance.now() - started) / 1000).toFixed(1)} s: ${dir}`);
  return dir;
}
