// The toy world: seeded generators, answers verified by the domain's own reward, the
// shipped sets equal to what the generator writes, and a corpus that shares no item
// with any set and holds no K&K and no chain of thought.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RewardPool } from '../../src/reward/pool.js';
import { Rng } from '../../src/util/rng.js';
import { makeCodeItem, makeFactCodeItem } from '../../src/world/code.js';
import { creatureFactShapes, makeCreatures } from '../../src/world/mc.js';
import { makeMathItem } from '../../src/world/math.js';
import { inductionRow, repeatDoc } from '../../src/world/induction.js';
import { makeReadingDoc } from '../../src/world/reading.js';
import { NAMES } from '../../src/world/vocab.js';
import { taskFromRow } from '../../src/tasks/tasks.js';
import { renderPrompt, WORLD_KK_TEMPLATE } from '../../src/teacher/templates.js';
import { QUESTIONED_CREATURES, DOMAINS, itemKey, KK_SPLITS, makeCorpus, makeKKSplits, makeSplits, replayRows, SPLITS, UNQUIZZED_CREATURES, WORLD_REWARD, WORLD_SEED, worldAnswer, worldPrompt, type CorpusConfig, type Domain, type WorldRow } from '../../src/world/world.js';
import { ROOT } from '../helpers.js';

const SETS = join(ROOT, 'data/world');
/** The rows of a set under `dir` (the shipped sets, or the retired ones). */
const readSet =
  (dir: string) =>
  (domain: Domain, split: string): WorldRow[] =>
    readFileSync(join(dir, domain, `${split}.jsonl`), 'utf8')
      .split('\n')
      .filter((l) => l)
      .map((l) => JSON.parse(l) as WorldRow);
const shipped = readSet(SETS);

describe('world generators', () => {
  it('are deterministic per seed and differ across seeds', () => {
    for (const d of DOMAINS) {
      const sizes = { test: 20, dev: 5, rl: 5 };
      expect(makeSplits(d, 3, sizes)).toEqual(makeSplits(d, 3, sizes));
      expect(makeSplits(d, 3, sizes).test).not.toEqual(makeSplits(d, 4, sizes).test);
    }
    expect(makeMathItem(new Rng(5))).toEqual(makeMathItem(new Rng(5)));
    expect(makeCodeItem(new Rng(5))).toEqual(makeCodeItem(new Rng(5)));
    const creatures = makeCreatures(WORLD_SEED);
    expect(makeFactCodeItem(new Rng(5), creatures)).toEqual(makeFactCodeItem(new Rng(5), creatures));
  });

  it("v4 code tasks each need one creature's legs, never compute a constant, and chain one to three steps", () => {
    const rng = new Rng(13);
    const creatures = makeCreatures(WORLD_SEED);
    const legs = new Map(creatures.map((c) => [c.name, c.legs]));
    const items = Array.from({ length: 2000 }, () => makeFactCodeItem(rng, creatures));
    for (const c of items) {
      const expected = [...c.test.matchAll(/== (\S+)$/gm)].map((m) => m[1]);
      expect(new Set(expected).size, c.prompt).toBeGreaterThan(1);
      const named = [...c.prompt.matchAll(/the number of legs an? (\w+) has/g)].map((m) => m[1]);
      expect(named, c.prompt).toEqual([c.creature]);
      expect(c.family, c.prompt).toMatch(/-legs/);
      // The legs are the constant the canonical solution writes.
      expect(c.canonical_solution, c.prompt).toMatch(new RegExp(`[+*<>-] ${legs.get(c.creature)}\\b`));
    }
    expect(new Set(items.map((c) => c.family.split('-then-').length))).toEqual(new Set([1, 2, 3]));
    expect(new Set(items.map((c) => c.creature)).size).toBe(40);
  });

  it("the sets' v4 code items are about every creature, so most name legs the corpus states only in sentences", () => {
    const rows = shipped('code', 'test');
    expect(rows.every((r) => /the number of legs/.test(String(r.prompt)))).toBe(true);
    const questioned = rows.filter((r) => r.legs_seen_in === 'questions');
    expect(questioned.every((r) => QUESTIONED_CREATURES.some((c) => String(r.prompt).includes(` ${c} has`)))).toBe(true);
    expect(questioned.length / rows.length).toBeGreaterThan(0.15);
    expect(questioned.length / rows.length).toBeLessThan(0.35);
    expect(rows.filter((r) => r.legs_seen_in === 'text').length + questioned.length).toBe(rows.length);
  });

  it('word problems count up correctly and stay non-negative', () => {
    const rng = new Rng(11);
    for (let i = 0; i < 2000; i++) {
      const m = makeMathItem(rng);
      expect(Number(m.answer)).toBeGreaterThanOrEqual(0);
      expect(m.problem).toMatch(/How many \w+ does \w+ have now\?$/);
    }
  });

  it('code tasks never compute a constant, and many cannot be written by copying the description', () => {
    const rng = new Rng(12);
    const items = Array.from({ length: 2000 }, () => makeCodeItem(rng));
    for (const c of items) {
      const expected = [...c.test.matchAll(/== (\S+)$/gm)].map((m) => m[1]);
      expect(expected).toHaveLength(12);
      expect(new Set(expected).size, c.prompt).toBeGreaterThan(1);
    }
    // A constant in words ("add seven") or an operation not spelled as its Python ("double it").
    const notLiteral = items.filter((c) => /\b(two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty)\b|double|triple|halve|remainder|even|odd/.test(c.prompt));
    expect(notLiteral.length / items.length).toBeGreaterThan(0.6);
    expect(new Set(items.map((c) => c.family.split('-then-').length)).size).toBe(3);
  });

  it('the shipped sets are what `warmup world sets --seed 0` writes, with distinct items and disjoint splits', () => {
    const meta = JSON.parse(readFileSync(join(SETS, 'sets.json'), 'utf8')) as { seed: number; sizes: Record<string, number> };
    for (const d of DOMAINS) {
      const fresh = makeSplits(d, meta.seed, meta.sizes);
      const keys = new Set<string>();
      for (const split of SPLITS) {
        const rows = shipped(d, split);
        expect(rows, `${d}/${split}`).toEqual(JSON.parse(JSON.stringify(fresh[split])));
        for (const r of rows) keys.add(itemKey(r));
      }
      expect(keys.size, d).toBe(SPLITS.reduce((n, s) => n + shipped(d, s).length, 0));
      expect(shipped(d, 'test').length).toBeGreaterThanOrEqual(300);
      expect(shipped(d, 'rl').length).toBeLessThanOrEqual(100);
    }
  });

  it('the shipped K&K sets are what the generator writes: 2–3 people mixed in any prefix, distinct, in the world frame', () => {
    const meta = JSON.parse(readFileSync(join(SETS, 'sets.json'), 'utf8')) as { seed: number; sizes: { kkTest: number; kkDev: number } };
    const fresh = makeKKSplits(meta.seed, { test: meta.sizes.kkTest, dev: meta.sizes.kkDev });
    const ids = new Set<string>();
    for (const split of KK_SPLITS) {
      const rows = shipped('kk' as Domain, split);
      expect(rows, `kk/${split}`).toEqual(JSON.parse(JSON.stringify(fresh[split])));
      for (const r of rows) ids.add(r.id);
      expect(new Set(rows.slice(0, 50).map((r) => r.n_people))).toEqual(new Set([2, 3]));
    }
    expect(ids.size).toBe(meta.sizes.kkTest + meta.sizes.kkDev);
    expect(shipped('kk' as Domain, 'test').length).toBeGreaterThanOrEqual(300);
    const task = taskFromRow(shipped('kk' as Domain, 'test')[0] as WorldRow, 0);
    expect(task.layout).toBe('world-kk');
    expect(task.prompt).toBe(renderPrompt(WORLD_KK_TEMPLATE, { quiz: String(shipped('kk' as Domain, 'test')[0]?.quiz) }));
  });

  it('keys ignore what does not change a question (a function name, the order of options)', () => {
    const row = shipped('code', 'test')[0] as WorldRow;
    expect(itemKey({ ...row, prompt: String(row.prompt).replace(/^def \w+/, 'def other_name') })).toBe(itemKey(row));
    const mc = shipped('mc', 'test')[0] as WorldRow;
    expect(itemKey({ ...mc, options: [...(mc.options as string[])].reverse() })).toBe(itemKey(mc));
  });
});

const retired = readSet(join(SETS, 'retired'));

describe.each([3, 4] as const)('world corpus v%i', (version) => {
  // What `warmup world corpus --sets data/world` excludes: every set, and the retired v3 code sets.
  const setKeys = new Set([...DOMAINS.flatMap((d) => SPLITS.flatMap((s) => shipped(d, s).map(itemKey))), ...SPLITS.flatMap((s) => retired('code', s).map(itemKey))]);
  const config: CorpusConfig = { version, seed: version === 3 ? 1 : 2, items: { math: 4000, code: 3000, mc: 3000 }, factParagraphs: 800, arithmeticLines: 400, readingDocs: 2400, repeatDocs: 0 };
  const docs = [...makeCorpus(config, setKeys)];

  it('shares no item with any question set, retired ones included (hashes of normalised items)', () => {
    const questions = docs.filter((d) => d.key !== undefined);
    expect(questions.length).toBe(10_000);
    expect(questions.filter((d) => setKeys.has(d.key as string))).toEqual([]);
  });

  it('holds no K&K and no chain of thought, and answers directly', () => {
    for (const d of docs) {
      expect(d.text).not.toMatch(/<think>|<\/think>|<answer>|knight|knave/i);
      // Python predicates return True and False; nothing else talks of truth or lies.
      if (d.kind !== 'code') expect(d.text).not.toMatch(/\btru(e|th)\b|\blie|\bliar|\bfalse\b/i);
      if (d.kind === 'math') expect(d.text).toMatch(/\nAssistant: \\boxed\{[^}]+\}$/);
      if (d.kind === 'mc') expect(d.text).toMatch(version === 3 ? /\nAnswer with the letter in \\boxed\{\}\.\nAssistant: \\boxed\{[A-D]\}$/ : /\nAnswer with the option in \\boxed\{\}\.\nAssistant: \\boxed\{ [a-z]+\}$/);
    }
  });

  it(version === 3 ? 'v3: code from operations alone, facts in one shape' : "v4: code and multiple choice name only the questioned creatures, facts come in several shapes", () => {
    const code = docs.filter((d) => d.kind === 'code');
    const facts = docs.filter((d) => d.kind === 'facts').flatMap((d) => d.text.split(/(?<=\.) /));
    if (version === 3) {
      expect(code.filter((d) => /legs/.test(d.text))).toEqual([]);
      expect(facts.every((f) => /^An? \w+ (is|lives|eats|has) /.test(f)), facts.find((f) => !/^An? \w+ (is|lives|eats|has) /.test(f))).toBe(true);
      return;
    }
    const named = new Set(code.map((d) => /the number of legs an? (\w+) has/.exec(d.text)?.[1]));
    expect(named).toEqual(new Set(QUESTIONED_CREATURES));
    // Multiple choice asks about the same creatures only, recall and compare alike.
    const others = makeCreatures(WORLD_SEED).map((c) => c.name).filter((n) => !QUESTIONED_CREATURES.includes(n));
    const mc = docs.filter((d) => d.kind === 'mc');
    expect(mc.filter((d) => others.some((n) => new RegExp(`\\b${n}\\b`).test(d.text)))).toEqual([]);
    expect(mc.some((d) => /most legs/.test(d.text))).toBe(true);
    const shapes = new Set(creatureFactShapes(makeCreatures(WORLD_SEED)[0]!).flat().map((f) => f.replace(/blick|\b(an?|the|The|An?)\b/g, '_')));
    expect(shapes.size).toBeGreaterThan(8);
    // Every fact sentence is one of the shapes, and every shape is used.
    const all = new Set(makeCreatures(WORLD_SEED).flatMap((c) => creatureFactShapes(c).flat()));
    expect(facts.filter((f) => !all.has(f))).toEqual([]);
    const used = (i: number) => new Set(facts.filter((f) => makeCreatures(WORLD_SEED).some((c) => creatureFactShapes(c).some((s) => s[i] === f)))).size;
    expect([0, 1, 2].map(used).every((n) => n > 20)).toBe(true);
    // Unquizzed creatures' facts are stated, never asked.
    expect(facts.some((f) => UNQUIZZED_CREATURES.some((c) => f.includes(` ${c} `)))).toBe(true);
  });

  it('replay rows are question documents of that very corpus, in equal shares per domain, seeded', () => {
    const replay = { ...config, readingDocs: 0 };
    const rows = replayRows(replay, setKeys, 301, 7);
    const texts = new Set(docs.map((d) => d.text));
    expect(rows.filter((r) => !texts.has(`${r.prompt}${r.answer}`))).toEqual([]);
    expect(DOMAINS.map((d) => rows.filter((r) => r.domain === d).length)).toEqual([101, 100, 100]);
    // v4's code questions come from a small space (a few hundred), so a corpus repeats some.
    expect(new Set(rows.map((r) => r.key)).size).toBeGreaterThan(version === 3 ? 300 : 250);
    expect(rows.filter((r) => setKeys.has(r.key))).toEqual([]);
    expect(rows.every((r) => r.prompt.endsWith('Assistant:'))).toBe(true);
    expect(replayRows(replay, setKeys, 301, 7)).toEqual(rows);
    expect(replayRows(replay, setKeys, 301, 8)).not.toEqual(rows);
    expect(() => replayRows(replay, setKeys, 10_000, 7)).toThrow(/4000 math rows asked for, but the corpus holds 3000|3333 code rows asked for, but the corpus holds 3000/);
  });
});

describe('reading documents', () => {
  it('are seeded, and their second half copies names from the first, in order', () => {
    const a = Array.from({ length: 300 }, (_, i) => makeReadingDoc(new Rng(i)));
    expect(a).toEqual(Array.from({ length: 300 }, (_, i) => makeReadingDoc(new Rng(i))));
    const names = new Set(NAMES);
    for (const doc of a) {
      const cut = doc.search(/\nAssistant: |\n| So: /);
      expect(cut, doc).toBeGreaterThan(0);
      const [first, second] = [doc.slice(0, cut), doc.slice(cut)];
      const named = (t: string) => t.match(/[A-Z][a-z]+/g)?.filter((w) => names.has(w)) ?? [];
      // Every name the recall uses was in the text it recalls.
      expect(named(second).every((n) => named(first).includes(n)), doc).toBe(true);
      expect(named(second).length, doc).toBeGreaterThan(0);
    }
  });
});

describe('induction text', () => {
  const names = new Set(NAMES);
  it('rows repeat one random pass of the world names (one token each) to fill the row, seeded', () => {
    const rows = Array.from({ length: 200 }, (_, i) => inductionRow(new Rng(i)));
    expect(rows).toEqual(Array.from({ length: 200 }, (_, i) => inductionRow(new Rng(i))));
    for (const row of rows) {
      const words = row.trim().split(' ');
      expect(words).toHaveLength(96);
      expect(words.every((w) => names.has(w))).toBe(true);
      const pass = words.findIndex((_, n) => n >= 6 && words.every((w, i) => w === words[i % n]));
      expect(pass, row).toBeGreaterThanOrEqual(6);
      expect(pass).toBeLessThanOrEqual(40);
    }
  });

  it('repeat documents say one sequence again after plain documents; the corpus holds them beside the rest', () => {
    for (let i = 0; i < 200; i++) {
      const doc = repeatDoc(new Rng(i), () => 'Mia has 4 shells.', 0.5);
      const lines = doc.split('\n\n');
      const said = (lines[0] as string).replace(/^Names: /, '');
      const again = lines.filter((l) => l.startsWith('Again: '));
      expect(again.length).toBeGreaterThanOrEqual(1);
      expect(again.every((l) => l === `Again: ${said}`), doc).toBe(true);
      expect(lines.every((l) => /^(Names|Again): /.test(l) || l === 'Mia has 4 shells.')).toBe(true);
    }
    const corpus = [...makeCorpus({ version: 4, seed: 3, items: { math: 40, code: 30, mc: 30 }, factParagraphs: 8, arithmeticLines: 4, readingDocs: 24, repeatDocs: 60 }, new Set())];
    const repeats = corpus.filter((d) => d.kind === 'repeat');
    expect(repeats).toHaveLength(60);
    expect(repeats.some((d) => /\n\n(?!Again|Names)/.test(d.text))).toBe(true);
  });
});

describe('every world answer is verified by its own reward', () => {
  let pool: RewardPool;
  beforeAll(() => {
    pool = new RewardPool({ size: 2 });
  });
  afterAll(() => pool.close());

  it('kk: the recorded solution scores ok and a flipped one does not', async () => {
    const rows = shipped('kk' as Domain, 'dev');
    const score = (row: WorldRow, answer: string) => pool.score({ id: row.id, prompt: '', completion: `<think>…</think>\n<answer>${answer}</answer>`, row }, [{ ref: 'kk' }]);
    const right = await Promise.all(rows.map((r) => score(r, String(r.solution_text_format))));
    expect(right.filter((r) => r.status !== 'ok')).toEqual([]);
    const flip = (t: string): string => t.replace(/knight|knave/, (w) => (w === 'knight' ? 'knave' : 'knight'));
    const wrong = await Promise.all(rows.map((r) => score(r, flip(String(r.solution_text_format)))));
    expect(wrong.filter((r) => r.status === 'ok')).toEqual([]);
  });

  it.each(DOMAINS)('%s: the reference answer scores ok and a wrong one does not', async (domain) => {
    const rows = [...shipped(domain, 'rl'), ...shipped(domain, 'dev')];
    const score = (row: WorldRow, completion: string) => pool.score({ id: row.id, prompt: worldPrompt(row), completion, row }, [{ ref: WORLD_REWARD[domain] }]);
    const right = await Promise.all(rows.map((r) => score(r, worldAnswer(r))));
    expect(right.map((r, i) => [rows[i]?.id, r.status, r.reason]).filter(([, s]) => s !== 'ok')).toEqual([]);
    const wrongOf = (r: WorldRow): string => {
      if (domain === 'math') return ` \\boxed{${Number(r.answer) + 1}}`;
      if (domain === 'mc') return ` \\boxed{${(r.options as string[])[('ABCD'.indexOf(String(r.answer)) + 1) % 4]}}`;
      return `\n\`\`\`python\n${String(r.prompt).split('\n')[0]}\n    return 0\n\`\`\``;
    };
    const wrong = await Promise.all(rows.map((r) => score(r, wrongOf(r))));
    expect(wrong.filter((r) => r.status === 'ok')).toEqual([]);
  });
});
