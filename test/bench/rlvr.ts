/**
 * RLVR streaming benchmark: the real pipeline (tiny student, default tokenizer, K&K
 * prompts, the sandbox reward pool) for a few GRPO steps, with generation/verification
 * overlap off (one generation call per batch, strictly on-policy), chunked (one prompt
 * per call, so scoring of one group overlaps generation of the next, still on-policy)
 * and pipelined (whole-batch calls with maxStaleness 1: the next batch is generated
 * while this one is scored).
 *
 * Two verifiers: the built-in kk reward (cheap: generation dominates) and a synthetic
 * one that spends a fixed 100 ms of CPU per completion (a stand-in for unit tests).
 * One pool worker and one wasm thread, so the model and the pool each have a core.
 */
process.env.WARMUP_WASM_THREADS ??= '1';
import { fileURLToPath } from 'node:url';
import { lastValueFrom, toArray } from 'rxjs';
import { generatePuzzles } from '../../dist/kk/generator.js';
import { selectBackend } from '../../dist/model/backend.js';
import { loadDefaultTokenizer } from '../../dist/model/default-tokenizer.js';
import { presetConfig, Transformer } from '../../dist/model/transformer.js';
import { RewardPool } from '../../dist/reward/pool.js';
import { rlvr } from '../../dist/stages/rlvr.js';
import { DEFAULT_RLVR, type RLVRConfig } from '../../dist/stages/rlvr-config.js';
import { R1_TEMPLATE, renderPrompt } from '../../dist/teacher/templates.js';
import { PolicyLearner } from '../../dist/train/policy.js';

const STEPS = 4;

export async function run(): Promise<unknown> {
  const backend = await selectBackend('auto');
  const tokenizer = await loadDefaultTokenizer();
  const examples = [...generatePuzzles({ people: [3], count: 16, seed: 5 })].map((p) => ({
    id: p.id,
    prompt: renderPrompt(R1_TEMPLATE, { quiz: p.quiz, names: p.names }),
    row: { names: p.names, solution: p.solution },
  }));
  const slow = fileURLToPath(new URL('../fixtures/rewards/slow.mjs', import.meta.url));
  const pool = new RewardPool({ size: 1 });
  const verifiers = { kk: [{ ref: 'kk' }], slow_100ms: [{ ref: slow, options: { ms: 100 } }] };
  const modes: Record<string, Partial<RLVRConfig>> = {
    // Generate a whole batch, then score it, then train: nothing overlaps.
    overlap_off: { chunkPrompts: 4, maxStaleness: 0 },
    // One prompt per generation call: scoring of a group overlaps generation of the next, on-policy.
    chunked_on_policy: { chunkPrompts: 1, maxStaleness: 0 },
    // Whole-batch generation, one version ahead: batch k+1 is generated while batch k is scored.
    pipelined_staleness_1: { chunkPrompts: 4, maxStaleness: 1 },
  };
  const results: Record<string, Record<string, unknown>> = {};
  try {
    for (const [vname, specs] of Object.entries(verifiers)) {
      results[vname] = {};
      for (const [mode, over] of Object.entries(modes)) {
        const model = Transformer.init(presetConfig('tiny', tokenizer.vocabSize), 0);
        const config: RLVRConfig = { ...DEFAULT_RLVR, groupSize: 8, promptsPerStep: 4, steps: STEPS, maxNewTokens: 48, temperature: 1, lr: 1e-4, microBatch: 16, verifyConcurrency: 8, ...over };
        const learner = new PolicyLearner(model, config, null, tokenizer.pad);
        const busy0 = pool.stats.busyMs;
        const t0 = performance.now();
        const steps = await lastValueFrom(
          rlvr({ learner, tokenizer, examples, config, score: (s, signal) => pool.score(s, specs, { signal }), poolSize: pool.size, poolWorkMs: () => pool.stats.busyMs, runId: 'bench', writeRollouts: () => Promise.resolve() }).pipe(toArray()),
        );
        const seconds = (performance.now() - t0) / 1000;
        const last = steps[steps.length - 1];
        (results[vname])[mode] = {
          seconds: +seconds.toFixed(2),
          rollouts_per_s: +((STEPS * 32) / seconds).toFixed(2),
          model_idle: +(last?.modelIdle ?? NaN).toFixed(3),
          pool_idle: +(last?.poolIdle ?? NaN).toFixed(3),
          // Workers' own time on checks over workers × wall time: a main thread held by
          // generation while a finished result waits to be read does not count.
          pool_util: +((pool.stats.busyMs - busy0) / 1000 / (pool.size * seconds)).toFixed(3),
        };
        learner.dispose();
        model.dispose();
      }
      const r = results[vname] as Record<string, { rollouts_per_s: number }>;
      r.speedup_chunked_vs_off = +((r.chunked_on_policy?.rollouts_per_s ?? NaN) / (r.overlap_off?.rollouts_per_s ?? NaN)).toFixed(2) as never;
      r.speedup_pipelined_vs_off = +((r.pipelined_staleness_1?.rollouts_per_s ?? NaN) / (r.overlap_off?.rollouts_per_s ?? NaN)).toFixed(2) as never;
    }
  } finally {
    await pool.close();
  }
  return {
    what: `rlvr stream: ${STEPS} GRPO steps of 4 K&K prompts x 8 completions (48 new tokens), tiny preset, 1 pool worker; idle = share of wall time with nothing running on that side; pool_util = worker-measured check time / (workers x wall time)`,
    backend: backend.name,
    threads: backend.threads,
    ...results,
  };
}
