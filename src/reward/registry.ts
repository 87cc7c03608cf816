/**
 * Rewards by exact id. Custom rewards are modules given by path, exporting `id` and
 * `score` (named, or as a default object). Duplicate and unknown ids throw.
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { codeReward } from './code.js';
import { kkReward } from './kk.js';
import { mathReward } from './math.js';
import { mcReward } from './mc.js';
import { verlReward } from './verl.js';
import type { RewardModule } from './types.js';

// Static imports: the built-ins are small, and their heavy parts (the math engine, the
// interpreters) start only on first use.
const BUILTINS: Record<string, RewardModule> = { kk: kkReward, math: mathReward, mc: mcReward, code: codeReward, verl: verlReward };

/** The ids of the built-in rewards. */
export const BUILTIN_REWARDS: readonly string[] = Object.keys(BUILTINS);

/** One reward in a composition: a built-in id or a module path, its options and weight. */
export interface RewardSpec {
  /** Built-in id ("kk", "math", "mc", "code", "verl") or a path to a module (contains "/" or ends in .js/.mjs/.ts). */
  readonly ref: string;
  readonly options?: Readonly<Record<string, unknown>>;
  readonly weight?: number;
}

/** True when `ref` names a module file rather than a built-in id. */
export const isModulePath = (ref: string): boolean => /[\\/]/.test(ref) || /\.(c|m)?[jt]s$/.test(ref);

/**
 * Validates specs in the calling thread (so errors surface before any work) and
 * resolves module paths to absolute ones. Throws for unknown ids, duplicate ids, bad
 * weights and a built-in reward's bad options.
 */
export function resolveRewardSpecs(specs: readonly RewardSpec[], cwd = process.cwd()): RewardSpec[] {
  if (specs.length === 0) throw new Error('at least one reward is needed');
  const seen = new Set<string>();
  return specs.map((s) => {
    if (s.weight !== undefined && !Number.isFinite(s.weight)) throw new Error(`reward '${s.ref}': weight must be a finite number, got ${s.weight}`);
    const ref = isModulePath(s.ref) ? (isAbsolute(s.ref) ? s.ref : resolve(cwd, s.ref)) : s.ref;
    if (!isModulePath(ref) && !(ref in BUILTINS)) {
      throw new Error(`unknown reward '${s.ref}': use one of ${BUILTIN_REWARDS.join(', ')}, or a path to a module`);
    }
    // A built-in's options are checked here; a module's, when a worker loads it.
    BUILTINS[ref]?.checkOptions?.(s.options ?? {});
    if (seen.has(ref)) throw new Error(`reward '${s.ref}' is listed twice`);
    seen.add(ref);
    return { ...s, ref };
  });
}

/** Checks weights against the rewards: one finite weight per reward. */
export function applyWeights(specs: readonly RewardSpec[], weights: readonly number[] | undefined): RewardSpec[] {
  if (weights === undefined) return [...specs];
  if (weights.length !== specs.length) {
    throw new Error(`${weights.length} weights given for ${specs.length} rewards (${specs.map((s) => s.ref).join(', ')})`);
  }
  return specs.map((s, i) => ({ ...s, weight: weights[i] as number }));
}

function checkModule(m: unknown, where: string): RewardModule {
  const candidate = (m as { default?: unknown }).default ?? m;
  const { id, score } = candidate as Partial<RewardModule>;
  if (typeof id !== 'string' || id === '') throw new Error(`${where}: a reward module must export a non-empty string 'id'`);
  if (typeof score !== 'function') throw new Error(`${where}: reward '${id}' must export a function 'score(sample, options)'`);
  return candidate as RewardModule;
}

/** Loads reward modules by ref, once each, and keeps ids unique. */
export class RewardRegistry {
  private readonly byRef = new Map<string, Promise<RewardModule>>();
  private readonly ids = new Map<string, string>();

  /** The module for `ref` (loaded on first use). */
  load(ref: string): Promise<RewardModule> {
    let p = this.byRef.get(ref);
    if (!p) {
      p = this.loadUncached(ref);
      this.byRef.set(ref, p);
    }
    return p;
  }

  private async loadUncached(ref: string): Promise<RewardModule> {
    let module: RewardModule;
    if (isModulePath(ref)) {
      let imported: unknown;
      try {
        imported = await import(pathToFileURL(ref).href);
      } catch (e) {
        throw new Error(`cannot load reward module ${ref}: ${(e as Error).message}`, { cause: e });
      }
      module = checkModule(imported, ref);
    } else {
      const builtin = BUILTINS[ref];
      if (!builtin) throw new Error(`unknown reward '${ref}': use one of ${BUILTIN_REWARDS.join(', ')}, or a path to a module`);
      module = builtin;
    }
    const owner = this.ids.get(module.id);
    if (owner !== undefined && owner !== ref) throw new Error(`duplicate reward id '${module.id}': both ${owner} and ${ref} declare it`);
    if (isModulePath(ref) && module.id in BUILTINS) throw new Error(`duplicate reward id '${module.id}': ${ref} reuses a built-in id`);
    this.ids.set(module.id, ref);
    return module;
  }
}
