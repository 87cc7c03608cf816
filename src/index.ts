/**
 * warmup: train reasoning language models when good training data is scarce.
 *
 * The library surface: Knights & Knaves engine, Arrow datasets and RxJS stages.
 */
export * from './kk/index.js';
export * from './data/schemas.js';
export * from './data/records.js';
export * from './data/ipc.js';
export * from './data/dataset.js';
export * from './kk/records.js';
export * from './stages/io.js';
export * from './stages/kk-generate.js';
export * from './stages/verify.js';
export * from './reward/types.js';
export * from './reward/registry.js';
export * from './reward/compose.js';
export { RewardPool, type RewardPoolConfig } from './reward/pool.js';
export * from './model/backend.js';
export * from './model/tokenizer.js';
export * from './model/transformer.js';
export * from './model/sample.js';
export * from './model/checkpoint.js';
export * from './train/sft.js';
export { symbolicTrace, DEFAULT_SYMBOLIC, type SymbolicTeacherConfig } from './teacher/symbolic.js';
export { Rng, deriveSeed } from './util/rng.js';
export type { Pipeline, PipelineContext, PipelineValue } from './pipeline/types.js';
export { runPipeline, loadPipeline, resolveConfig } from './pipeline/runner.js';
export * from './eval/benchmarks.js';
export * from './eval/run.js';
export * from './eval/bootstrap.js';
export * from './eval/replication.js';
export * from './report/replication.js';
export * from './tasks/layouts.js';
export * from './tasks/tasks.js';
export * from './stages/rlvr-config.js';
export * from './stages/rlvr.js';
export * from './train/grpo.js';
export * from './train/policy.js';
export * from './stages/replay.js';
export * from './train/rollout-log.js';
export { writeReport, collectReport } from './report/report.js';
