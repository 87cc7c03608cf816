/**
 * The toy world: three target domains (math, code, multiple choice) with one prompt
 * template each, their question sets (RL, dev, held-out test), and the pretraining
 * corpus of a base model that answers them directly.
 *
 * Every item is keyed by a hash of its normalised question text. The sets are drawn
 * first, from their own seeded streams, and the corpus is drawn from other streams with
 * every set's keys excluded, so the base never saw a question it is evaluated on. The
 * corpus holds no K&K and no chain of thought: questions with direct answers, the
 * creatures' facts as plain sentences, and arithmetic facts.
 */
import { puzzleToRecord } from '../kk/records.js';
import { generatePuzzles, splitCount } from '../kk/generator.js';
import { hash53 } from '../util/hash.js';
import { deriveSeed, Rng } from '../util/rng.js';
import { makeCodeItem, makeFactCodeItem, type CodeItem } from './code.js';
import { makeArithmeticFact, makeMathItem, type MathItem } from './math.js';
import { makeReadingDoc } from './reading.js';
import { repeatDoc } from './induction.js';
import { creatureFacts, creatureFactShapes, makeCreatures, makeMCItem, renderMC, type MCItem } from './mc.js';
import { CREATURE_NAMES, type Creature } from './vocab.js';

/** The seed of the world's facts (which creature is which colour): fixed, shared by every run. */
export const WORLD_SEED = 2505;

export const DOMAINS = ['math', 'code', 'mc'] as const;
export type Domain = (typeof DOMAINS)[number];

/** A dataset row of a world domain: the item's own layout plus `id` and `domain`. */
export type WorldRow = { readonly id: string; readonly domain: Domain } & Record<string, unknown>;

/**
 * The world's two frames. v3 is the corpus of the shipped base's second phase: multiple
 * choice answered with a letter, each creature fact in one sentence shape, code from
 * operations alone. v4 is the corpus of its third phase and the frame of every set,
 * RL run and evaluation: multiple choice answered with the option's text (a 1.2M base
 * learns no letter lookup: results/LAB.md, probe 27), facts in several shapes, and code
 * that needs a creature's legs (`makeFactCodeItem`).
 */
export type WorldVersion = 3 | 4;

/** The prompt of a row, one template per domain, for pretraining, RL and eval alike (`version` 3 only for the v3 corpus). */
export function worldPrompt(row: Readonly<Record<string, unknown>>, version: WorldVersion = 4): string {
  switch (row.domain as Domain) {
    case 'math':
      return `User: ${String(row.problem)} Put the final answer in \\boxed{}.\nAssistant:`;
    case 'code':
      return `User: Complete this Python function.\n${String(row.prompt)}Assistant:`;
    case 'mc':
      return `User: ${renderMC({ question: String(row.question), options: row.options as string[] })}\nAnswer with the ${version === 3 ? 'letter' : 'option'} in \\boxed{}.\nAssistant:`;
    default:
      throw new Error(`world row ${String(row.id)}: unknown domain ${JSON.stringify(row.domain)} (expected one of ${DOMAINS.join(', ')})`);
  }
}

/** The direct answer a base writes (the corpus's completions; never a chain of thought). */
export function worldAnswer(row: Readonly<Record<string, unknown>>, version: WorldVersion = 4): string {
  switch (row.domain as Domain) {
    case 'math':
      return ` \\boxed{${String(row.answer)}}`;
    case 'code':
      return `\n\`\`\`python\n${String(row.prompt).split('\n')[0]}\n${String(row.canonical_solution)}\`\`\``;
    case 'mc':
      // v4 boxes the option's text after a space, so it is the very token the option is in
      // the prompt (" white"): without it the world tokenizer spells it in pieces (w|h|ite).
      return version === 3 ? ` \\boxed{${String(row.answer)}}` : ` \\boxed{ ${String((row.options as string[])[LETTERS.indexOf(String(row.answer))])}}`;
    default:
      throw new Error(`world row ${String(row.id)}: unknown domain ${JSON.stringify(row.domain)}`);
  }
}

const LETTERS = 'ABCD';

/** The reward that scores a domain (mc reads a boxed letter or a boxed option's text). */
export const WORLD_REWARD: Record<Domain, string> = { math: 'math', code: 'code', mc: 'mc' };

const normalise = (s: string): string => s.toLowerCase().replace(/\s+/g, ' ').trim();

/**
 * The key of an item: a hash of its normalised question, ignoring what does not change
 * the question (a code task's function name, the order of multiple-choice options), so
 * a renamed or reshuffled copy of an evaluated question counts as the same item.
 */
export function itemKey(row: Readonly<Record<string, unknown>>): string {
  let question: string;
  if (row.domain === 'math') question = String(row.problem);
  else if (row.domain === 'code') question = String(row.prompt).replace(/^def\s+\w+/, 'def f');
  else question = `${String(row.question)} | ${[...(row.options as string[])].sort().join(' | ')}`;
  return `${String(row.domain)}:${hash53(normalise(question)).toString(36)}`;
}

/**
 * The creatures the v4 corpus asks about (the first 10): its code and multiple-choice
 * documents name only these. The sets name all 40, so about three items in four need
 * facts the base read only as sentences (several shapes, one of them the code items'
 * phrase "the number of legs a jusk has"), which it retrieves in part (results/LAB.md,
 * session 14). Chosen on dev: with 20, dev code was 82% and dev mc 85%, every item
 * about an asked creature right.
 */
export const QUESTIONED_CREATURES: readonly string[] = CREATURE_NAMES.slice(0, 10);

/**
 * One item of `domain` from `rng`, as a row without its id: v3's code from operations
 * alone, or v4's with a creature's legs. Code and multiple choice name creatures from
 * `pool` (the v4 corpus: `QUESTIONED_CREATURES`; the sets and the v3 corpus: all).
 */
function makeItem(domain: Domain, rng: Rng, version: WorldVersion, pool: readonly Creature[]): Omit<WorldRow, 'id'> {
  switch (domain) {
    case 'math': {
      const m: MathItem = makeMathItem(rng);
      return { domain, problem: m.problem, answer: m.answer, subject: `steps-${m.steps}`, level: String(m.steps) };
    }
    case 'code': {
      if (version === 3) {
        const c: CodeItem = makeCodeItem(rng);
        return { domain, prompt: c.prompt, entry_point: c.entry_point, test: c.test, canonical_solution: c.canonical_solution, family: c.family };
      }
      const c = makeFactCodeItem(rng, pool);
      // Where a base could have met the creature's legs: in the v4 corpus's questions, or only in sentences.
      const legsSeenIn = QUESTIONED_CREATURES.includes(c.creature) ? 'questions' : 'text';
      return { domain, prompt: c.prompt, entry_point: c.entry_point, test: c.test, canonical_solution: c.canonical_solution, family: c.family, legs_seen_in: legsSeenIn };
    }
    case 'mc': {
      const q: MCItem = makeMCItem(rng, pool);
      return { domain, question: q.question, options: q.options, answer: q.answer, category: q.kind };
    }
  }
}

export const SPLITS = ['test', 'dev', 'rl'] as const;
export type Split = (typeof SPLITS)[number];

/** Set sizes: the held-out test set (nothing is tuned on it), a dev set to tune on, and the ≤100 RL examples. */
export const DEFAULT_SPLIT_SIZES: Record<Split, number> = { test: 400, dev: 200, rl: 100 };

/**
 * The question sets of `domain`: distinct items drawn in order from one seeded stream,
 * the first `test` to the held-out set, the next `dev` to dev, the next `rl` to RL.
 */
export function makeSplits(domain: Domain, seed: number, sizes: Record<Split, number> = DEFAULT_SPLIT_SIZES): Record<Split, WorldRow[]> {
  const rng = new Rng(deriveSeed(seed, DOMAINS.indexOf(domain), 1));
  const creatures = makeCreatures(WORLD_SEED);
  const seen = new Set<string>();
  const out = { test: [], dev: [], rl: [] } as Record<Split, WorldRow[]>;
  let tries = 0;
  for (const split of SPLITS) {
    while (out[split].length < sizes[split]) {
      if (++tries > 100 * (sizes.test + sizes.dev + sizes.rl)) throw new Error(`world ${domain}: cannot draw ${sizes[split]} distinct ${split} items (the item space is too small)`);
      const item = makeItem(domain, rng, 4, creatures);
      const key = itemKey(item);
      if (seen.has(key)) continue;
      seen.add(key);
      out[split].push({ id: `${domain}-${split}-${out[split].length}`, ...item } as WorldRow);
    }
  }
  return out;
}

/** The world's K&K sets: held-out and dev puzzles of 2 and 3 people (K&K is the warmup domain, never an RL target). */
export const KK_SPLITS = ['test', 'dev'] as const;
export type KKSplit = (typeof KK_SPLITS)[number];
export const KK_PEOPLE: readonly number[] = [2, 3];
export const DEFAULT_KK_SIZES: Record<KKSplit, number> = { test: 400, dev: 200 };

/**
 * Held-out and dev K&K puzzles: distinct puzzles from one seeded run (half of each
 * size), shuffled so that any prefix mixes sizes, the first `test` to the held-out set.
 * Rows are `kk generate`'s with `domain: 'kk'`, so the world's K&K prompt is used; a
 * warmup run keeps them out with `kk generate --exclude`.
 */
export function makeKKSplits(seed: number, sizes: Record<KKSplit, number> = DEFAULT_KK_SIZES): Record<KKSplit, WorldRow[]> {
  const rows = [...generatePuzzles({ people: KK_PEOPLE, count: sizes.test + sizes.dev, seed: deriveSeed(seed, 0x6b6b) })].map(
    (p) => ({ ...puzzleToRecord(p), domain: 'kk' }) as unknown as WorldRow,
  );
  new Rng(deriveSeed(seed, 0x6b6b, 1)).shuffle(rows);
  return { test: rows.slice(0, sizes.test), dev: rows.slice(sizes.test) };
}

/**
 * Creatures the v3 corpus states facts about but never quizzes: a question about one of
 * them tests whether a model can use a fact it only read as a plain sentence. (The v4
 * corpus asks about fewer: `QUESTIONED_CREATURES`.)
 */
export const UNQUIZZED_CREATURES: readonly string[] = CREATURE_NAMES.slice(-10);

function asksAboutUnquizzed(row: Readonly<Record<string, unknown>>): boolean {
  if (row.domain !== 'mc') return false;
  const text = `${String(row.question)} ${(row.options as string[]).join(' ')}`;
  return UNQUIZZED_CREATURES.some((c) => new RegExp(`\\b${c}\\b`).test(text));
}

/** How much of each kind of text the corpus holds. */
export interface CorpusConfig {
  /** The frame of its documents (see `WorldVersion`). */
  readonly version: WorldVersion;
  readonly seed: number;
  /** Question → direct answer documents per domain. */
  readonly items: Record<Domain, number>;
  /** Paragraphs of creature facts (1–3 creatures each, sentences shuffled). */
  readonly factParagraphs: number;
  /** Lines of 5–10 arithmetic facts. */
  readonly arithmeticLines: number;
  /** Reading documents (reading.ts): text whose second half copies from its first. None in the shipped base's corpus (v1); results/LAB.md, probe 6, tried 24,000. */
  readonly readingDocs: number;
  /** Repeat documents (induction.ts): a sequence of names said again after 0–2 plain documents. None in v1. */
  readonly repeatDocs: number;
}

/** The v3 corpus: the shipped base's second phase (with 40,000 reading and 16,000 repeat documents from the command line). */
export const DEFAULT_CORPUS: CorpusConfig = { version: 3, seed: 1, items: { math: 40_000, code: 30_000, mc: 30_000 }, factParagraphs: 8_000, arithmeticLines: 4_000, readingDocs: 0, repeatDocs: 0 };
/** The v4 corpus: the shipped base's third phase, and the corpus its rehearsal rows come from (with reading and repeat documents from the command line). */
export const V4_CORPUS: CorpusConfig = { version: 4, seed: 2, items: { math: 12_000, code: 20_000, mc: 16_000 }, factParagraphs: 12_000, arithmeticLines: 1_000, readingDocs: 0, repeatDocs: 0 };
export const CORPORA: Record<WorldVersion, CorpusConfig> = { 3: DEFAULT_CORPUS, 4: V4_CORPUS };

/** One pretraining document. */
export interface CorpusDoc {
  readonly text: string;
  /** `math`, `code`, `mc`, `facts`, `arithmetic`, `reading` or `repeat`. */
  readonly kind: string;
  /** The item key of a question document (see `itemKey`); absent for plain text. */
  readonly key?: string;
}

/**
 * The corpus, in a seeded order: items whose key is in `exclude` (every question set)
 * are redrawn, so no evaluated question is ever seen in pretraining.
 */
export function* makeCorpus(config: CorpusConfig, exclude: ReadonlySet<string>): Generator<CorpusDoc> {
  const creatures = makeCreatures(WORLD_SEED);
  const rng = new Rng(deriveSeed(config.seed, 99));
  const plan: string[] = [];
  for (const d of DOMAINS) for (let i = 0; i < config.items[d]; i++) plan.push(d);
  for (let i = 0; i < config.factParagraphs; i++) plan.push('facts');
  for (let i = 0; i < config.arithmeticLines; i++) plan.push('arithmetic');
  for (let i = 0; i < config.readingDocs; i++) plan.push('reading');
  for (let i = 0; i < config.repeatDocs; i++) plan.push('repeat');
  rng.shuffle(plan);
  const streams = Object.fromEntries(DOMAINS.map((d) => [d, corpusItems(config, d, exclude, creatures)])) as Record<Domain, Generator<WorldQuestion>>;
  // v4 states each fact in a shape drawn from several (v3: the plain one only).
  const facts = (c: Creature): string[] => (config.version === 3 ? creatureFacts(c) : creatureFactShapes(c).map((shapes) => rng.pick(shapes)));
  const plain: Record<string, () => string> = {
    facts: () => rng.shuffle(rng.sample(creatures, 1 + rng.int(3)).flatMap(facts)).join(' '),
    reading: () => makeReadingDoc(rng),
    arithmetic: () => Array.from({ length: 5 + rng.int(6) }, () => makeArithmeticFact(rng)).join(' '),
  };
  // A repeat document's fillers are plain text (never a question, so no set item can slip in).
  const fillers = Object.values(plain);
  const filler = (): string => rng.pick(fillers)();
  for (const kind of plan) {
    const write = plain[kind];
    if (write) {
      yield { kind, text: write() };
    } else if (kind === 'repeat') {
      yield { kind, text: repeatDoc(rng, filler) };
    } else {
      const item = streams[kind as Domain].next().value as WorldQuestion;
      yield { kind, key: item.key, text: `${item.prompt}${item.answer}` };
    }
  }
}

/** A question document of the corpus, prompt and answer apart. */
export interface WorldQuestion {
  readonly domain: Domain;
  readonly key: string;
  readonly prompt: string;
  readonly answer: string;
}

/**
 * The question documents of `domain` in the corpus `config` (its seed and frame), in
 * corpus order (endless): each domain draws from a stream of its own, so the first N
 * are the same whatever else the corpus holds. Items whose key is in `exclude` are
 * redrawn. v4's code and multiple choice name only `QUESTIONED_CREATURES`; v3's multiple
 * choice never names `UNQUIZZED_CREATURES`.
 */
export function* corpusItems(config: Pick<CorpusConfig, 'seed' | 'version'>, domain: Domain, exclude: ReadonlySet<string>, creatures = makeCreatures(WORLD_SEED)): Generator<WorldQuestion> {
  const rng = new Rng(deriveSeed(config.seed, DOMAINS.indexOf(domain), 2));
  const pool = config.version === 3 ? creatures : creatures.filter((c) => QUESTIONED_CREATURES.includes(c.name));
  const draw = (): Omit<WorldRow, 'id'> => makeItem(domain, rng, config.version, pool);
  for (;;) {
    let item = draw();
    for (let tries = 0; exclude.has(itemKey(item)) || asksAboutUnquizzed(item); tries++) {
      if (tries > 1000) throw new Error(`world corpus: ${domain} items keep hitting the question sets; the item space is too small`);
      item = draw();
    }
    yield { domain, key: itemKey(item), prompt: worldPrompt(item, config.version), answer: worldAnswer(item, config.version) };
  }
}

/**
 * Rehearsal rows for a warmup (results/LAB.md, probe 26): `count` question → answer
 * pairs drawn (seed `seed`) from the question documents of the base's own corpus
 * (`config`), in equal shares per domain. The base has been trained on them, so they
 * bring no new target-domain knowledge into the warmup; they keep its answers alive.
 */
export function replayRows(config: CorpusConfig, exclude: ReadonlySet<string>, count: number, seed: number): WorldQuestion[] {
  const rng = new Rng(deriveSeed(seed, 0x7265706c));
  const creatures = makeCreatures(WORLD_SEED);
  const shares = splitCount(count, DOMAINS);
  const rows = DOMAINS.flatMap((d, i) => {
    const want = shares[i] as number;
    const pool = config.items[d];
    if (want > pool) throw new Error(`world replay: ${want} ${d} rows asked for, but the corpus holds ${pool} ${d} questions`);
    const picked = new Set(rng.sample([...Array(pool).keys()], want));
    const out: WorldQuestion[] = [];
    let k = 0;
    for (const item of corpusItems(config, d, exclude, creatures)) {
      if (picked.has(k)) out.push(item);
      if (++k === pool || out.length === want) break;
    }
    return out;
  });
  return rng.shuffle(rows);
}
