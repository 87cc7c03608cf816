/** Helpers shared by the CLI commands. */
import { resolve } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { Observable } from 'rxjs';
import type { LoraConfig } from '../model/lora.js';
import { checkTrainingMemory } from '../model/memory.js';
import { BACKEND_NAMES } from '../model/names.js';
import type { Transformer } from '../model/transformer.js';

let exitCode = 0;
/** Sets the exit code of the running command without throwing (e.g. "checked, but some records disagree"). */
export function setExitCode(code: number): void {
  exitCode = code;
}
/** Returns and resets the exit code set by the last command. */
export function takeExitCode(): number {
  const c = exitCode;
  exitCode = 0;
  return c;
}

/** Parses an integer option, naming the option in the error. */
export function intOption(name: string, min = 0, max = Number.MAX_SAFE_INTEGER): (text: string) => number {
  return (text: string): number => {
    const v = Number(text);
    if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(v) || v < min || v > max) {
      throw new InvalidArgumentError(`${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(text)}`);
    }
    return v;
  };
}

/** Islander counts, with the number of puzzles of each when given as "2:390,3:2000". */
export interface PeopleSpec {
  readonly people: number[];
  readonly counts: number[] | null;
}

/** Parses "3-7", "3,5,7", "4" (count split evenly) or "2:390,3:2000" (a count per size). */
export function parsePeopleSpec(text: string): PeopleSpec {
  if (!text.includes(':')) return { people: parsePeople(text), counts: null };
  const parts = text.split(',').map((part) => /^\s*(\d+)\s*:\s*(\d+)\s*$/.exec(part));
  if (parts.some((m) => m === null)) throw new InvalidArgumentError(`--people with counts must be N:COUNT,M:COUNT,…; got ${JSON.stringify(text)}`);
  const people = parts.map((m) => Number((m as RegExpExecArray)[1]));
  if (new Set(people).size !== people.length) throw new InvalidArgumentError(`--people lists a size twice: ${text}`);
  return { people, counts: parts.map((m) => Number((m as RegExpExecArray)[2])) };
}

/** Parses "3-7", "3,5,7" or "4" into a list of islander counts. */
export function parsePeople(text: string): number[] {
  const range = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(text);
  let out: number[];
  if (range) {
    const [a, b] = [Number(range[1]), Number(range[2])];
    if (a > b) throw new InvalidArgumentError(`--people range ${text} is empty (write low-high, e.g. 3-7)`);
    out = Array.from({ length: b - a + 1 }, (_, i) => a + i);
  } else if (/^\s*\d+(\s*,\s*\d+)*\s*$/.test(text)) {
    out = text.split(',').map((s) => Number(s.trim()));
  } else {
    throw new InvalidArgumentError(`--people must be N, LOW-HIGH or a list N,M,…; got ${JSON.stringify(text)}`);
  }
  if (new Set(out).size !== out.length) throw new InvalidArgumentError(`--people lists a size twice: ${text}`);
  return out;
}

/** Writes one JSON value to stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Parses a number option within [min, max], naming the option in the error. */
export function numberOption(name: string, min = Number.NEGATIVE_INFINITY, max = Number.POSITIVE_INFINITY): (text: string) => number {
  return (text: string): number => {
    const v = Number(text);
    if (text.trim() === '' || !Number.isFinite(v) || v < min || v > max) {
      throw new InvalidArgumentError(`${name} must be a number in [${min}, ${max}], got ${JSON.stringify(text)}`);
    }
    return v;
  };
}

/** The --backend option of the commands that run a model. */
export const backendOption = (): Option =>
  new Option('--backend <name>', 'TensorFlow.js backend: auto tries node-gpu, node, wasm, then cpu').choices(['auto', ...BACKEND_NAMES]).default('auto');

/** The LoRA flags of the training commands (without --lora-r: full fine-tuning). */
export interface LoraFlags {
  loraR?: number;
  loraAlpha?: number;
  loraTargets?: string[];
}

/** Adds --lora-r, --lora-alpha and --lora-targets to a training command. */
export function loraOptions(cmd: Command): Command {
  return cmd
    .option('--lora-r <n>', 'train a LoRA adapter of this rank instead of every weight (saved in PEFT layout; the base stays as it is)', intOption('--lora-r', 1))
    .option('--lora-alpha <x>', 'LoRA scale numerator: the update is (alpha / r)·B·A (default 16)', numberOption('--lora-alpha', 0))
    .option('--lora-targets <list>', 'comma-separated layers to adapt (default: q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj)', (v: string) => v.split(',').map((x) => x.trim()).filter(Boolean));
}

/**
 * Attaches a fresh LoRA adapter to `model` (loaded from `base`) when the flags ask for
 * one; returns a line for the log, or null. Tensorflow.js loads here, not at CLI start.
 */
export async function attachLoraFromFlags(model: Transformer, base: string | undefined, flags: LoraFlags, seed: number): Promise<string | null> {
  if (flags.loraR === undefined) return null;
  if (!base) throw new Error('--lora-r needs --model: an adapter trains on top of a checkpoint');
  if (model.adapter) throw new Error(`--lora-r: ${base} is already an adapter; train it on (--model ${base}) without --lora-r, or merge it first (warmup merge)`);
  const { DEFAULT_LORA, LoraAdapter } = await import('../model/lora.js');
  const { weightShapes } = await import('../model/transformer.js');
  const config = { r: flags.loraR, alpha: flags.loraAlpha ?? DEFAULT_LORA.alpha, targets: (flags.loraTargets ?? DEFAULT_LORA.targets) as LoraConfig['targets'] };
  model.adapter = LoraAdapter.init(config, weightShapes(model.config), resolve(base), seed);
  const trained = model.variables().reduce((n, v) => n + v.size, 0);
  return `LoRA adapter r ${config.r}, alpha ${config.alpha} on ${config.targets.join(', ')}: ${(trained / 1e6).toFixed(3)}M trainable parameters; the base stays as it is`;
}

/**
 * The memory line of a training command, or its error when training cannot fit the
 * backend's heap (`checkTrainingMemory`). `anchored`: the optimizer also keeps a copy of
 * the trained weights to decay toward (`--anchor-decay`).
 */
export function trainingMemoryLine(command: string, model: Transformer, tfBackend: string, longestRow?: number, anchored = false): string {
  const size = (vars: Iterable<{ size: number }>): number => [...vars].reduce((n, v) => n + v.size, 0);
  const trainable = size(model.trainable().values());
  const row = longestRow === undefined ? undefined : { tokens: longestRow, vocab: model.config.vocabSize };
  return checkTrainingMemory(command, size(model.weights.values()) + (model.adapter || anchored ? trainable : 0), trainable, tfBackend, row);
}

/**
 * Runs a stream of steps to its end. On Ctrl-C it says what it does (`stopping`),
 * unsubscribes, so the stage stops cleanly, and resolves with `interrupted`; a second
 * Ctrl-C exits at once.
 */
export function runInterruptible<T>(steps$: Observable<T>, next: (step: T) => void, stopping: string): Promise<{ interrupted: boolean }> {
  return new Promise((resolve, reject) => {
    const onSigint = (): void => {
      process.stderr.write(`\ninterrupted: ${stopping} (Ctrl-C again to quit at once)\n`);
      process.once('SIGINT', () => process.exit(130));
      sub.unsubscribe();
      resolve({ interrupted: true });
    };
    const sub = steps$.subscribe({
      next,
      error: (e: unknown) => {
        process.off('SIGINT', onSigint);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
      complete: () => {
        process.off('SIGINT', onSigint);
        resolve({ interrupted: false });
      },
    });
    if (!sub.closed) process.once('SIGINT', onSigint);
  });
}

/** Commander's parser for a repeatable option: every use adds one value. */
export const repeatable = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];
