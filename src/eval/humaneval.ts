/** HumanEval problems (OpenAI's HumanEval.jsonl(.gz) layout), for the code reward and its benchmarks. */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

export interface HumanEvalProblem {
  readonly task_id: string;
  /** The function signature and docstring; completions continue it. */
  readonly prompt: string;
  readonly canonical_solution: string;
  /** Defines check(candidate). */
  readonly test: string;
  readonly entry_point: string;
}

/** Reads a HumanEval file (.jsonl or .jsonl.gz); names the line of a bad row. */
export function readHumanEval(path: string): HumanEvalProblem[] {
  const raw = readFileSync(path);
  const text = (path.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l, i) => {
      const p = JSON.parse(l) as Partial<HumanEvalProblem>;
      for (const k of ['task_id', 'prompt', 'test', 'entry_point'] as const) {
        if (typeof p[k] !== 'string') throw new Error(`${path} line ${i + 1}: '${k}' is missing or not a string`);
      }
      return p as HumanEvalProblem;
    });
}
