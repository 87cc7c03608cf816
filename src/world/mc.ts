/**
 * Multiple choice about the toy world's creatures (made-up animals whose colour, home,
 * food and legs are stated only in the corpus), in the MMLU-Pro layout (`question`,
 * `options`, `answer` letter). Two kinds:
 *
 * - recall: "What colour is a blick?" — a fact the corpus states in plain text;
 * - compare: "Which of these has the most legs?" — four recalled facts, then a
 *   comparison the corpus never shows answered for that set of creatures.
 *
 * The world itself (which creature has which facts) is fixed by one seed and shared by
 * the corpus and every question set; items are drawn from other seeds.
 */
import { Rng } from '../util/rng.js';
import { COLORS, CREATURE_NAMES, FOODS, HOMES, LEG_COUNTS, type Creature } from './vocab.js';

/** The world: every creature and its facts. */
export function makeCreatures(worldSeed: number): Creature[] {
  const rng = new Rng(worldSeed);
  return CREATURE_NAMES.map((name) => ({ name, color: rng.pick(COLORS), home: rng.pick(HOMES), food: rng.pick(FOODS), legs: rng.pick(LEG_COUNTS) }));
}

/** The plain-text statements of a creature's facts, one sentence each: the only shape the v3 corpus uses. */
export function creatureFacts(c: Creature): string[] {
  const a = withArticle(c.name).replace(/^a/, 'A');
  return [`${a} is ${c.color}.`, `${a} lives in the ${c.home}.`, `${a} eats ${c.food}.`, `${a} has ${c.legs} legs.`];
}

const capital = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * Each fact of a creature in every sentence shape the v4 corpus uses (the first is
 * `creatureFacts`'s). A model that read a fact in one shape only stores it for that
 * shape, and a question does not reach it (results/LAB.md, probe 27e–f; Allen-Zhu and
 * Li, "Physics of Language Models" 3.1); the legs fact's second shape is the phrase
 * the v4 code items use.
 */
export function creatureFactShapes(c: Creature): string[][] {
  const a = withArticle(c.name);
  const [color, home, food, legs] = creatureFacts(c) as [string, string, string, string];
  return [
    [color, `The color of ${a} is ${c.color}.`, `${capital(c.color)} is the color of ${a}.`],
    [home, `In the ${c.home} lives ${a}.`, `The ${c.home} is where ${a} lives.`],
    [food, `${capital(c.food)} are what ${a} eats.`, `What ${a} eats is ${c.food}.`],
    [legs, `The number of legs ${a} has is ${c.legs}.`, `The ${c.name} walks on ${c.legs} legs.`],
  ];
}

export interface MCItem {
  readonly question: string;
  readonly options: string[];
  /** The correct letter, A–D. */
  readonly answer: string;
  readonly kind: 'recall' | 'compare';
}

const LETTERS = 'ABCD';

type Attribute = 'color' | 'home' | 'food';
/** "a blick", "an ember". */
export const withArticle = (name: string): string => `${/^[aeiou]/.test(name) ? 'an' : 'a'} ${name}`;

const ASK: Record<Attribute, (name: string) => string> = {
  color: (n) => `What color is ${withArticle(n)}?`,
  home: (n) => `Where does ${withArticle(n)} live?`,
  food: (n) => `What does ${withArticle(n)} eat?`,
};
const VALUES: Record<Attribute, readonly string[]> = { color: COLORS, home: HOMES, food: FOODS };

function withOptions(rng: Rng, question: string, correct: string, wrong: readonly string[], kind: MCItem['kind']): MCItem {
  const options = rng.shuffle([correct, ...rng.sample(wrong, 3)]);
  return { question, options, answer: LETTERS[options.indexOf(correct)] as string, kind };
}

/** A question about `creatures`: recall (weight 0.6) or compare legs (0.4). */
export function makeMCItem(rng: Rng, creatures: readonly Creature[]): MCItem {
  if (rng.float() < 0.6) {
    const c = rng.pick(creatures);
    const attr = rng.pick(['color', 'home', 'food'] as const);
    return withOptions(rng, ASK[attr](c.name), c[attr], VALUES[attr].filter((v) => v !== c[attr]), 'recall');
  }
  // Four creatures with distinct leg counts, so exactly one has the most.
  for (;;) {
    const four = rng.sample(creatures, 4);
    if (new Set(four.map((c) => c.legs)).size < 4) continue;
    const most = four.reduce((a, b) => (b.legs > a.legs ? b : a));
    const options = four.map((c) => c.name);
    return { question: 'Which of these has the most legs?', options, answer: LETTERS[options.indexOf(most.name)] as string, kind: 'compare' };
  }
}

/** The question with its lettered options, as a prompt shows it. */
export function renderMC(item: Pick<MCItem, 'question' | 'options'>): string {
  return `${item.question}\n${item.options.map((o, i) => `${LETTERS[i]}) ${o}`).join('\n')}`;
}
