/**
 * One explicit Arrow schema per artifact. Every stage writes and reads through these,
 * so the stages agree on column names and types without ever letting Arrow infer a
 * schema (inference turns strings into dictionaries whose ids change per batch).
 *
 * Each schema carries in its metadata the artifact name, its version and, once a run
 * writes it, the config that made the data (`withRunMetadata`).
 */
import {
  Bool,
  Field,
  Float32,
  Float64,
  Int32,
  List,
  Schema,
  Uint32,
  Utf8,
  type DataType,
} from 'apache-arrow';

/** Metadata keys every warmup dataset carries. */
export const META = {
  artifact: 'warmup.artifact',
  version: 'warmup.schema_version',
  config: 'warmup.config',
  createdBy: 'warmup.created_by',
} as const;

/** The artifacts warmup writes. */
export type ArtifactName = 'puzzles' | 'traces' | 'rollouts' | 'metrics';

/** An artifact's schema and version. */
export interface Artifact<R> {
  readonly name: ArtifactName;
  readonly version: number;
  readonly schema: Schema;
  /** Phantom: the plain record type a row converts to. */
  readonly _record?: R;
}

const listOf = (t: DataType): List => new List(new Field('item', t, false));
const field = (name: string, type: DataType, nullable = false): Field => new Field(name, type, nullable);

function makeArtifact<R>(name: ArtifactName, version: number, fields: Field[]): Artifact<R> {
  const metadata = new Map([
    [META.artifact, name],
    [META.version, String(version)],
  ]);
  return { name, version, schema: new Schema(fields, metadata) };
}

/** A puzzles row. `statements` is JSON of K&K tuples (see `src/kk/statement.ts`). */
export interface PuzzleRecord {
  id: string;
  seed: number | null;
  n_people: number;
  names: string[];
  /** [truthful, liar] role words, e.g. ["knight", "knave"]. */
  roles: string[];
  statements: string;
  quiz: string;
  solution: boolean[];
  solution_text: string;
  solution_text_format: string;
}

export const PUZZLES = makeArtifact<PuzzleRecord>('puzzles', 1, [
  field('id', new Utf8()),
  field('seed', new Uint32(), true),
  field('n_people', new Int32()),
  field('names', listOf(new Utf8())),
  field('roles', listOf(new Utf8())),
  field('statements', new Utf8()),
  field('quiz', new Utf8()),
  field('solution', listOf(new Bool())),
  field('solution_text', new Utf8()),
  field('solution_text_format', new Utf8()),
]);

/** A traces row: one teacher completion for one puzzle, verified. */
export interface TraceRecord {
  puzzle_id: string;
  /** Teacher id, e.g. "symbolic" or "openai:qwq-32b". */
  teacher: string;
  /** Prompt template id and version, e.g. "r1@1". */
  template: string;
  sample_idx: number;
  prompt: string;
  completion: string;
  /** The extracted final answer, or null if none could be extracted. */
  answer: string | null;
  /** Whether the answer matches the solution; null when it could not be checked. */
  correct: boolean | null;
  reward: number | null;
  n_tokens: number;
  latency_ms: number;
  /** "stop" | "length" | "error" … as the teacher reported it. */
  finish_reason: string;
  /** "ok" | "malformed" | "empty" | "truncated" | "error" … */
  status: string;
}

export const TRACES = makeArtifact<TraceRecord>('traces', 1, [
  field('puzzle_id', new Utf8()),
  field('teacher', new Utf8()),
  field('template', new Utf8()),
  field('sample_idx', new Int32()),
  field('prompt', new Utf8()),
  field('completion', new Utf8()),
  field('answer', new Utf8(), true),
  field('correct', new Bool(), true),
  field('reward', new Float64(), true),
  field('n_tokens', new Int32()),
  field('latency_ms', new Float64()),
  field('finish_reason', new Utf8()),
  field('status', new Utf8()),
]);

/** A rollouts row: one sampled completion in an RLVR group, with its reward and advantage. */
export interface RolloutRecord {
  run_id: string;
  step: number;
  policy_version: number;
  prompt_id: string;
  group_idx: number;
  prompt: string;
  /** JSON object: the target example's other columns (ground truth), so a log can be re-scored on its own. */
  example: string;
  completion: string;
  token_ids: number[];
  /** Sampling-time log-probabilities of `token_ids`. */
  logprobs: number[];
  reward: number | null;
  /** JSON object: reward id → score. */
  reward_parts: string;
  /** Null when the rollout was not trained on (null reward, or a group dropped by dynamic sampling or staleness). */
  advantage: number | null;
  /** Reward status: "ok" | "wrong" | "format_error" | "timeout" | "crashed" | "unscorable". */
  status: string;
  finish_reason: string;
}

export const ROLLOUTS = makeArtifact<RolloutRecord>('rollouts', 1, [
  field('run_id', new Utf8()),
  field('step', new Int32()),
  field('policy_version', new Int32()),
  field('prompt_id', new Utf8()),
  field('group_idx', new Int32()),
  field('prompt', new Utf8()),
  field('example', new Utf8()),
  field('completion', new Utf8()),
  field('token_ids', listOf(new Int32())),
  field('logprobs', listOf(new Float32())),
  field('reward', new Float64(), true),
  field('reward_parts', new Utf8()),
  field('advantage', new Float32(), true),
  field('status', new Utf8()),
  field('finish_reason', new Utf8()),
]);

/** A metrics row: one scalar at one step. */
export interface MetricRecord {
  run_id: string;
  step: number;
  name: string;
  value: number;
  /** Seconds since the Unix epoch. */
  wall_time: number;
}

export const METRICS = makeArtifact<MetricRecord>('metrics', 1, [
  field('run_id', new Utf8()),
  field('step', new Int32()),
  field('name', new Utf8()),
  field('value', new Float64()),
  field('wall_time', new Float64()),
]);

/**
 * The metric rows of one step, one per named value; a value that is missing or not
 * finite (e.g. entropy when no row was trained) is left out rather than logged as NaN.
 */
export function makeMetricRecords(runId: string, step: number, values: Readonly<Record<string, number | undefined>>, wallTime = Date.now() / 1000): MetricRecord[] {
  return Object.entries(values)
    .filter((e): e is [string, number] => e[1] !== undefined && Number.isFinite(e[1]))
    .map(([name, value]) => ({ run_id: runId, step, name, value, wall_time: wallTime }));
}

export const ARTIFACTS = { puzzles: PUZZLES, traces: TRACES, rollouts: ROLLOUTS, metrics: METRICS } as const;

/** The artifact's schema with the run's config (any JSON value) recorded in its metadata. */
export function withRunMetadata(artifact: Artifact<unknown>, config: unknown, createdBy = 'warmup'): Schema {
  const metadata = new Map(artifact.schema.metadata);
  metadata.set(META.config, JSON.stringify(config ?? null));
  metadata.set(META.createdBy, createdBy);
  return new Schema(artifact.schema.fields, metadata);
}

/** Which artifact a schema claims to be, from its metadata; null if none. */
export function artifactOf(schema: Schema): Artifact<unknown> | null {
  const name = schema.metadata.get(META.artifact);
  return name !== undefined && name in ARTIFACTS ? ARTIFACTS[name as ArtifactName] : null;
}

/** The config JSON recorded in a schema's metadata, or undefined. */
export function configOf(schema: Schema): unknown {
  const text = schema.metadata.get(META.config);
  return text === undefined ? undefined : (JSON.parse(text) as unknown);
}
