/**
 * Traces benchmark: the traces stage against a loopback `warmup serve` (a tiny random
 * student behind the OpenAI API, reached through the `openai` client over HTTP),
 * puzzles/s and completion tokens/s, with the symbolic teacher's rate in the same run
 * for scale.
 */
import type { AddressInfo } from 'node:net';
import { lastValueFrom, of, toArray } from 'rxjs';
import { generatePuzzles } from '../../dist/kk/generator.js';
import { selectBackend } from '../../dist/model/backend.js';
import { loadDefaultTokenizer } from '../../dist/model/default-tokenizer.js';
import { presetConfig, Transformer } from '../../dist/model/transformer.js';
import { createOpenAIServer } from '../../dist/serve/server.js';
import { traces } from '../../dist/stages/traces.js';
import { OpenAITeacher } from '../../dist/teacher/openai.js';
import { makeSymbolicTeacher } from '../../dist/teacher/symbolic.js';
import { R1_TEMPLATE } from '../../dist/teacher/templates.js';

export async function run(): Promise<unknown> {
  const backend = await selectBackend('auto');
  const tokenizer = await loadDefaultTokenizer();
  const model = Transformer.init(presetConfig('tiny', tokenizer.vocabSize), 0);
  const server = createOpenAIServer({ model, tokenizer, name: 'student' });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  const puzzles = [...generatePuzzles({ people: [3, 4, 5], count: 24, seed: 3 })];
  const sample = { n: 4, temperature: 0.6, topP: 0.95, maxTokens: 64, stop: [] };
  const filter = { keep: 'all' as const, maxTokens: 0, dedup: false };
  try {
    const teacher = new OpenAITeacher({ baseUrls: [base], model: 'student', concurrency: 4, maxRetries: 0 });
    const t0 = performance.now();
    const groups = await lastValueFrom(of(...puzzles).pipe(traces({ teacher, template: R1_TEMPLATE, sample, filter, concurrency: 4 }), toArray()));
    const seconds = (performance.now() - t0) / 1000;
    const symbolic = makeSymbolicTeacher();
    const s0 = performance.now();
    await lastValueFrom(of(...puzzles).pipe(traces({ teacher: symbolic, template: R1_TEMPLATE, sample, filter }), toArray()));
    const symbolicSeconds = (performance.now() - s0) / 1000;
    return {
      what: 'traces stage: 24 puzzles x 4 samples, max 64 new tokens, through the openai client to a loopback warmup serve (tiny random student)',
      backend: backend.name,
      serve: {
        puzzles_per_s: +(puzzles.length / seconds).toFixed(2),
        completion_tokens_per_s: Math.round(teacher.usage.completionTokens / seconds),
        samples: groups.reduce((n, g) => n + g.sampled.length, 0),
        statuses: teacher.usage.byStatus,
      },
      symbolic_teacher_puzzles_per_s_same_run: Math.round(puzzles.length / symbolicSeconds),
    };
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
    model.dispose();
  }
}
