// The shipped base of the toy world (data/models/world-base, v4) loads, reads back a
// list of names, and answers the world's questions directly in the v4 frame: a guard
// for checkpoint-format changes, on dev items only (results/LAB.md, probes 21 and 29).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/model/backend.js';
import { loadCheckpoint } from '../../src/model/checkpoint.js';
import { generate } from '../../src/model/sample.js';
import { joinList } from '../../src/kk/render.js';
import { scoreMath } from '../../src/reward/math.js';
import { scoreChoice } from '../../src/reward/mc.js';
import { Rng } from '../../src/util/rng.js';
import { NAMES } from '../../src/world/vocab.js';
import { worldPrompt, type WorldRow } from '../../src/world/world.js';
import { ROOT } from '../helpers.js';

describe('data/models/world-base', () => {
  it('loads, reads back lists of names, and answers math, multiple-choice and code dev questions in their frames', async () => {
    await selectBackend('wasm');
    const { model, tokenizer } = await loadCheckpoint(join(ROOT, 'data/models/world-base'));
    expect(model.config).toMatchObject({ tieEmbeddings: false, vocabSize: 1611 });
    // The copy skill a K&K warmup needs (16 of 16 here; dev copy gate: 100%).
    const rng = new Rng(7);
    const lists = Array.from({ length: 16 }, () => rng.sample(NAMES, 3 + rng.int(3)));
    const copies = generate(model, tokenizer, lists.map((names) => tokenizer.encode(`We met ${joinList(names)}.\nIn order:`)), { maxNewTokens: 16, temperature: 0 });
    expect(lists.filter((names, i) => copies[i]?.text.startsWith(` ${names.join(', ')}.`)).length).toBeGreaterThanOrEqual(14);
    const dev = (domain: string): WorldRow[] => readFileSync(join(ROOT, `data/world/${domain}/dev.jsonl`), 'utf8').split('\n').filter(Boolean).slice(0, 32).map((l) => JSON.parse(l) as WorldRow);
    const answer = (rows: WorldRow[], tokens: number): string[] => generate(model, tokenizer, rows.map((r) => tokenizer.encode(worldPrompt(r))), { maxNewTokens: tokens, temperature: 0 }).map((g) => g.text);
    const math = dev('math');
    const mathAnswers = answer(math, 16);
    const results = math.map((r, i) => scoreMath({ prompt: worldPrompt(r), completion: mathAnswers[i] ?? '', row: r }));
    expect(results.filter((r) => r.status !== 'format_error').length).toBeGreaterThanOrEqual(30);
    expect(results.filter((r) => r.status === 'ok').length).toBeGreaterThanOrEqual(3); // 27.5% on 200 dev items
    // Multiple choice: the option's text in the box (39% right on 200 dev items; chance 25%).
    const mc = dev('mc');
    const mcAnswers = answer(mc, 8);
    expect(mcAnswers.filter((a) => /^ \\boxed\{ [a-z]+\}/.test(a)).length).toBeGreaterThanOrEqual(30);
    expect(mc.filter((r, i) => scoreChoice({ prompt: '', completion: mcAnswers[i] ?? '', row: r }).status === 'ok').length).toBeGreaterThanOrEqual(6);
    // Code: a one-line body that writes some creature's legs as a number (62% right on 200 dev items).
    const codeAnswers = answer(dev('code'), 48);
    model.dispose();
    expect(codeAnswers.filter((a) => /^\n```python\ndef \w+\(\w+\):\n {4}return [^\n]*\d[^\n]*\n```/.test(a)).length).toBeGreaterThanOrEqual(30);
  });
});
