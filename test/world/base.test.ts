// The shipped base of the toy world (data/models/world-base) loads and answers the
// world's questions directly: a guard for checkpoint-format changes, on dev items only.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/model/backend.js';
import { loadCheckpoint } from '../../src/model/checkpoint.js';
import { generate } from '../../src/model/sample.js';
import { scoreMath } from '../../src/reward/math.js';
import { worldPrompt, type WorldRow } from '../../src/world/world.js';
import { ROOT } from '../helpers.js';

describe('data/models/world-base', () => {
  it('loads and answers math dev questions in \\boxed{}, mostly right', async () => {
    await selectBackend('wasm');
    const { model, tokenizer } = await loadCheckpoint(join(ROOT, 'data/models/world-base'));
    const rows = readFileSync(join(ROOT, 'data/world/math/dev.jsonl'), 'utf8').split('\n').filter(Boolean).slice(0, 32).map((l) => JSON.parse(l) as WorldRow);
    const gens = generate(model, tokenizer, rows.map((r) => tokenizer.encode(worldPrompt(r))), { maxNewTokens: 16, temperature: 0 });
    model.dispose();
    const results = rows.map((r, i) => scoreMath({ prompt: worldPrompt(r), completion: gens[i]?.text ?? '', row: r }));
    expect(results.filter((r) => r.status !== 'format_error').length).toBeGreaterThanOrEqual(30);
    expect(results.filter((r) => r.status === 'ok').length).toBeGreaterThanOrEqual(12); // 64% on all 200 dev items
  });
});
