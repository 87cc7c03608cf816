// The shipped base of the toy world (data/models/world-base, v3) loads, reads back a
// list of names, and answers the world's questions directly: a guard for
// checkpoint-format changes, on dev items only (results/LAB.md, probe 21).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/model/backend.js';
import { loadCheckpoint } from '../../src/model/checkpoint.js';
import { generate } from '../../src/model/sample.js';
import { joinList } from '../../src/kk/render.js';
import { scoreMath } from '../../src/reward/math.js';
import { Rng } from '../../src/util/rng.js';
import { NAMES } from '../../src/world/vocab.js';
import { worldPrompt, type WorldRow } from '../../src/world/world.js';
import { ROOT } from '../helpers.js';

describe('data/models/world-base', () => {
  it('loads, reads back lists of names, and answers math dev questions in \\boxed{}', async () => {
    await selectBackend('wasm');
    const { model, tokenizer } = await loadCheckpoint(join(ROOT, 'data/models/world-base'));
    expect(model.config).toMatchObject({ tieEmbeddings: false, vocabSize: 1611 });
    // The copy skill a K&K warmup needs (16 of 16 here; dev copy gate: 100%).
    const rng = new Rng(7);
    const lists = Array.from({ length: 16 }, () => rng.sample(NAMES, 3 + rng.int(3)));
    const copies = generate(model, tokenizer, lists.map((names) => tokenizer.encode(`We met ${joinList(names)}.\nIn order:`)), { maxNewTokens: 16, temperature: 0 });
    expect(lists.filter((names, i) => copies[i]?.text.startsWith(` ${names.join(', ')}.`)).length).toBeGreaterThanOrEqual(14);
    const rows = readFileSync(join(ROOT, 'data/world/math/dev.jsonl'), 'utf8').split('\n').filter(Boolean).slice(0, 32).map((l) => JSON.parse(l) as WorldRow);
    const gens = generate(model, tokenizer, rows.map((r) => tokenizer.encode(worldPrompt(r))), { maxNewTokens: 16, temperature: 0 });
    model.dispose();
    const results = rows.map((r, i) => scoreMath({ prompt: worldPrompt(r), completion: gens[i]?.text ?? '', row: r }));
    expect(results.filter((r) => r.status !== 'format_error').length).toBeGreaterThanOrEqual(30);
    expect(results.filter((r) => r.status === 'ok').length).toBeGreaterThanOrEqual(2); // 5 of 32 here; 20% on 100 dev items
  });
});
