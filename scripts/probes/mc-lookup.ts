/**
 * LAB probe 27 (dev set only): why multiple choice sits at chance. Does a checkpoint
 * know its creature facts, and can it turn a fact into an option's letter?
 *
 *   npx tsx scripts/probes/mc-lookup.ts probe CKPT
 *     greedy, on data/world/mc/dev.jsonl: the corpus's fact sentences completed (alone,
 *     and written into the answer after the question), the question as eval asks it,
 *     the question with the true fact (or the fact the model completes itself) written
 *     into the answer before `\boxed{`, and lookup alone ("Which of these is white?"
 *     with white among the options); then, with the options
 *     written "white (C)", the letter after the true value or after the fact the model
 *     completes itself ("An orrin is white (" → C), which is an induction copy.
 *   npx tsx scripts/probes/mc-lookup.ts drills OUT.jsonl N [CORPUS.jsonl M] [SEED]
 *     N lookup drills in the world's mc frame, plus M documents sampled from CORPUS,
 *     shuffled: the data of probe 27b's continued pretraining.
 *   npx tsx scripts/probes/mc-lookup.ts reframe CORPUS.jsonl OUT.jsonl N M [SEED] [F]
 *     N of CORPUS's multiple-choice documents rewritten to answer with the option's text
 *     ("Answer with the option in \boxed{}." → `\boxed{white}`), plus M of its other
 *     documents, plus F paragraphs of every creature's facts in several sentence shapes:
 *     probe 27e's (F = 0) and 27f's continued pretraining.
 *   npx tsx scripts/probes/mc-lookup.ts text CKPT
 *     the mc dev set in both frames (letter, option text), greedy, split by kind and by
 *     whether the item names a creature the corpus never quizzes.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { describeBackend, selectBackend } from '../../src/model/backend.js';
import { loadCheckpoint } from '../../src/model/checkpoint.js';
import { generate } from '../../src/model/sample.js';
import { extractChoice } from '../../src/reward/mc.js';
import { Rng } from '../../src/util/rng.js';
import { creatureFacts, creatureFactShapes, makeCreatures, renderMC, withArticle } from '../../src/world/mc.js';
import type { Creature } from '../../src/world/vocab.js';
import { COLORS, CREATURE_NAMES, FOODS, HOMES, NAMES } from '../../src/world/vocab.js';
import { UNQUIZZED_CREATURES, WORLD_SEED, worldPrompt } from '../../src/world/world.js';

type MCRow = {
  readonly id: string;
  readonly domain: 'mc';
  readonly question: string;
  readonly options: string[];
  readonly answer: string;
  readonly category: 'recall' | 'compare';
};

const LETTERS = 'ABCD';
const creatures = new Map(makeCreatures(WORLD_SEED).map((c) => [c.name, c]));
const capital = (s: string): string => `${s.charAt(0).toUpperCase()}${s.slice(1)}`;

/** The corpus sentence that answers a recall item, split before its last word ("An orrin is" | "white."). */
function recallFact(row: MCRow): [string, string] {
  const name = [...creatures.keys()].find((n) => new RegExp(`\\b(a|an) ${n}\\b`).test(row.question));
  const c = name === undefined ? undefined : creatures.get(name);
  if (c === undefined) throw new Error(`${row.id}: no creature named in ${JSON.stringify(row.question)}`);
  const [color, home, food] = creatureFacts(c);
  const sentence = row.question.startsWith('What color') ? color : row.question.startsWith('Where') ? home : food;
  const cut = (sentence as string).lastIndexOf(' ');
  return [(sentence as string).slice(0, cut), (sentence as string).slice(cut + 1)];
}

/** The true facts an item needs, as corpus sentences. */
function facts(row: MCRow): string {
  if (row.category === 'compare') return row.options.map((o) => `${capital(withArticle(o))} has ${creatures.get(o)?.legs ?? '?'} legs.`).join(' ');
  return recallFact(row).join(' ');
}

const devRows = (): MCRow[] => readFileSync('data/world/mc/dev.jsonl', 'utf8').trim().split('\n').map((l) => JSON.parse(l) as MCRow);

/** A checkpoint's greedy completions of `prompts`, in batches of 50. */
async function completer(ckpt: string): Promise<(prompts: string[], maxNewTokens: number) => string[]> {
  console.error(describeBackend(await selectBackend('auto')));
  const { model, tokenizer } = await loadCheckpoint(ckpt);
  return (prompts, maxNewTokens) => {
    const out: string[] = [];
    for (let i = 0; i < prompts.length; i += 50) out.push(...generate(model, tokenizer, prompts.slice(i, i + 50).map((p) => tokenizer.encode(p)), { maxNewTokens, temperature: 0, seed: i }).map((g) => g.text));
    return out;
  };
}

async function probe(ckpt: string): Promise<void> {
  const complete = await completer(ckpt);
  const rows = devRows();
  const recall = rows.filter((r) => r.category === 'recall');
  const results: Record<string, unknown> = { checkpoint: ckpt };
  // 1. The facts, as the corpus states them.
  const factGens = complete(recall.map((r) => recallFact(r)[0]), 3);
  results.facts_known = `${recall.filter((r, i) => (factGens[i] as string).trim().startsWith(recallFact(r)[1])).length}/${recall.length}`;
  // ... and when the sentence's opening is written into the answer after the question.
  const inAnswer = complete(recall.map((r) => `${worldPrompt(r)} ${recallFact(r)[0]}`), 3);
  results.facts_completed_in_answer = `${recall.filter((r, i) => (inAnswer[i] as string).trim().startsWith(recallFact(r)[1])).length}/${recall.length}`;
  // 2. The question, with or without a fact written into the answer before the letter.
  const letterOf = (text: string): string | undefined => extractChoice(text, 'boxed')?.letter;
  const score = (label: string, answerPrefix: (r: MCRow) => string): void => {
    const prompts = rows.map((r) => `${worldPrompt(r)}${answerPrefix(r)}`);
    const gens = complete(prompts, 8);
    const by: Record<string, string> = {};
    for (const category of ['recall', 'compare']) {
      const idx = rows.flatMap((r, i) => (r.category === category ? [i] : []));
      const right = idx.filter((i) => letterOf(`${prompts[i] as string}${gens[i] as string}`.slice(-40)) === (rows[i] as MCRow).answer).length;
      by[category] = `${right}/${idx.length}`;
    }
    results[label] = by;
  };
  score('question', () => '');
  score('true_fact_then_letter', (r) => ` ${facts(r)} \\boxed{`);
  const ownWord = (r: MCRow): string => (factGens[recall.indexOf(r)] as string).trim().split(/[.}\n ]/)[0] as string;
  score('own_fact_then_letter', (r) => (r.category === 'recall' ? ` ${recallFact(r)[0]} ${ownWord(r)}. \\boxed{` : ' \\boxed{'));
  // 3. Lookup alone: the value is named in the question.
  const lookPrompts = recall.map((r) => worldPrompt({ ...r, question: `Which of these is ${r.options[LETTERS.indexOf(r.answer)]}?` }));
  const lookGens = complete(lookPrompts, 8);
  results.lookup_alone = `${recall.filter((r, i) => letterOf(lookGens[i] as string) === r.answer).length}/${recall.length}`;
  // 4. Options with the letter after the text ("white (C)"): after "white (" the letter is an induction copy, a skill the base has (probe 19).
  const after = (r: MCRow): string => `User: ${r.question}\n${r.options.map((o, i) => `${o} (${LETTERS[i] as string})`).join('\n')}\nAnswer with the letter in \\boxed{}.\nAssistant:`;
  const copyGens = complete(recall.map((r) => `${after(r)} ${r.options[LETTERS.indexOf(r.answer)] as string} (`), 1);
  results.letter_after_value_copied = `${recall.filter((r, i) => (copyGens[i] as string).trim().startsWith(r.answer)).length}/${recall.length}`;
  const ownGens = complete(recall.map((r) => `${after(r)} ${recallFact(r)[0]} ${ownWord(r)} (`), 1);
  results.letter_after_own_fact = `${recall.filter((r, i) => (ownGens[i] as string).trim().startsWith(r.answer)).length}/${recall.length}`;
  console.log(JSON.stringify(results, null, 2));
}

function drills(out: string, count: number, corpus: string | undefined, corpusDocs: number, seed: number): void {
  const rng = new Rng(seed);
  const pools: readonly (readonly string[])[] = [COLORS, HOMES, FOODS, CREATURE_NAMES, NAMES.slice(0, 60)];
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const options = rng.sample(rng.pick(pools), 4);
    const k = rng.int(4);
    const text = `User: ${renderMC({ question: `Which of these is ${options[k] as string}?`, options })}\nAnswer with the letter in \\boxed{}.\nAssistant: \\boxed{${LETTERS[k] as string}}`;
    lines.push(JSON.stringify({ text, kind: 'lookup' }));
  }
  if (corpus !== undefined && corpusDocs > 0) lines.push(...rng.sample(readFileSync(corpus, 'utf8').trim().split('\n'), corpusDocs));
  rng.shuffle(lines);
  writeFileSync(out, `${lines.join('\n')}\n`);
  console.log(`${out}: ${lines.length} rows (${count} lookup drills, ${lines.length - count} corpus documents)`);
}

const TEXT_FRAME = 'Answer with the option in \\boxed{}.';
/** A world mc prompt that asks for the option's text instead of its letter. */
const textPrompt = (r: Pick<MCRow, 'question' | 'options'>): string => `User: ${renderMC(r)}\n${TEXT_FRAME}\nAssistant:`;

/**
 * A creature fact in one of several sentence shapes: the v4 corpus's (`creatureFactShapes`).
 * Probe 27f ran with the same shapes but one legs shape, "The mip has 6 legs." (this
 * file at commit b4f047a); a rerun differs there.
 */
const factForms = creatureFactShapes;

function reframe(corpus: string, out: string, mcDocs: number, otherDocs: number, seed: number, formDocs = 0): void {
  const rng = new Rng(seed);
  const docs = readFileSync(corpus, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { text: string; kind: string });
  const mc = docs.filter((d) => d.kind === 'mc').map((d) => {
    const m = /^User: (.*)\nA\) (.*)\nB\) (.*)\nC\) (.*)\nD\) (.*)\nAnswer with the letter in \\boxed\{\}\.\nAssistant: \\boxed\{([A-D])\}$/.exec(d.text);
    if (m === null) throw new Error(`not a world mc document: ${JSON.stringify(d.text)}`);
    const options = m.slice(2, 6);
    return { text: `${textPrompt({ question: m[1] as string, options })} \\boxed{${options[LETTERS.indexOf(m[6] as string)] as string}}`, kind: 'mc-text' };
  });
  // Paragraphs of 1-3 creatures' facts (every creature, quizzed or not), each fact in a shape drawn at random.
  const all = [...creatures.values()];
  const forms = Array.from({ length: formDocs }, () => ({ text: rng.shuffle(rng.sample(all, 1 + rng.int(3)).flatMap((c) => factForms(c).map((f) => rng.pick(f)))).join(' '), kind: 'fact-forms' }));
  const lines = [...rng.sample(mc, mcDocs), ...forms, ...rng.sample(docs.filter((d) => d.kind !== 'mc'), otherDocs)].map((d) => JSON.stringify(d));
  rng.shuffle(lines);
  writeFileSync(out, `${lines.join('\n')}\n`);
  console.log(`${out}: ${lines.length} rows (${mcDocs} mc documents answering with the option's text, ${formDocs} fact paragraphs in several shapes)`);
}

/**
 * The mc dev set in both frames (letter and option text), greedy, split by kind and by
 * whether the item names a creature the corpus never quizzes (its facts read only as
 * plain sentences).
 */
async function textProbe(ckpt: string): Promise<void> {
  const complete = await completer(ckpt);
  const rows = devRows();
  const unquizzed = (r: MCRow): boolean => UNQUIZZED_CREATURES.some((c) => new RegExp(`\\b${c}\\b`).test(`${r.question} ${r.options.join(' ')}`));
  const results: Record<string, unknown> = { checkpoint: ckpt };
  for (const [frame, prompt, want] of [
    ['letter', (r: MCRow) => worldPrompt(r), (r: MCRow) => r.answer],
    ['text', textPrompt, (r: MCRow) => r.options[LETTERS.indexOf(r.answer)] as string],
  ] as const) {
    const gens = complete(rows.map(prompt), 8);
    const counts: Record<string, [number, number]> = {};
    rows.forEach((r, i) => {
      const cell = (counts[`${r.category}/${unquizzed(r) ? 'unquizzed' : 'quizzed'}`] ??= [0, 0]);
      cell[1]++;
      if ((gens[i] as string).includes(`\\boxed{${want(r)}}`)) cell[0]++;
    });
    results[frame] = Object.fromEntries(Object.entries(counts).map(([k, [right, n]]) => [k, `${right}/${n}`]));
  }
  // Every fact of the unquizzed creatures, four option sets each (option text frame).
  const rng = new Rng(2027);
  const extra: MCRow[] = UNQUIZZED_CREATURES.flatMap((name) => {
    const c = creatures.get(name) as Creature;
    const asks = [['color', `What color is ${withArticle(name)}?`, c.color, COLORS], ['home', `Where does ${withArticle(name)} live?`, c.home, HOMES], ['food', `What does ${withArticle(name)} eat?`, c.food, FOODS]] as const;
    return asks.flatMap(([attr, question, value, pool]) => Array.from({ length: 4 }, (_, k) => {
      const options = rng.shuffle([value, ...rng.sample(pool.filter((v) => v !== value), 3)]);
      return { id: `${name}-${attr}-${k}`, domain: 'mc' as const, question, options, answer: LETTERS[options.indexOf(value)] as string, category: 'recall' as const };
    }));
  });
  const extraGens = complete(extra.map(textPrompt), 8);
  const right = extra.map((r, i) => (extraGens[i] as string).includes(`\\boxed{${r.options[LETTERS.indexOf(r.answer)] as string}}`));
  results.unquizzed_facts_text = `${right.filter(Boolean).length}/${extra.length}`;
  // Per fact (creature × attribute): how many of its four option sets were answered right, for a paired bootstrap over facts.
  results.unquizzed_per_fact = Array.from({ length: extra.length / 4 }, (_, f) => right.slice(4 * f, 4 * f + 4).filter(Boolean).length).join('');
  console.log(JSON.stringify(results, null, 2));
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'probe' && args[0] !== undefined) await probe(args[0]);
else if (mode === 'drills' && args[0] !== undefined && args[1] !== undefined) drills(args[0], Number(args[1]), args[2], Number(args[3] ?? 0), Number(args[4] ?? 27));
else if (mode === 'reframe' && args.length >= 4) reframe(args[0] as string, args[1] as string, Number(args[2]), Number(args[3]), Number(args[4] ?? 29), Number(args[5] ?? 0));
else if (mode === 'text' && args[0] !== undefined) await textProbe(args[0]);
else throw new Error('usage: mc-lookup.ts probe CKPT | drills OUT.jsonl N [CORPUS.jsonl M] [SEED] | reframe CORPUS.jsonl OUT.jsonl N M [SEED] [F] | text CKPT');
