/**
 * Default islander names and role words. Names are single capitalised words so that
 * quizzes stay easy to parse; pass your own list through `KKConfig.names`.
 */

/** 120 common given names, each one word, no name a prefix-word of another. */
export const DEFAULT_NAMES: readonly string[] = [
  'Aaron', 'Abigail', 'Adam', 'Aiden', 'Alexander', 'Alice', 'Amelia', 'Andrew', 'Anna', 'Aria',
  'Ava', 'Benjamin', 'Bella', 'Brooklyn', 'Caleb', 'Camila', 'Carter', 'Charlotte', 'Chloe', 'Christopher',
  'Claire', 'Daniel', 'David', 'Dylan', 'Eleanor', 'Elijah', 'Elizabeth', 'Ella', 'Ellie', 'Emily',
  'Emma', 'Ethan', 'Evelyn', 'Ezra', 'Gabriel', 'Grace', 'Hannah', 'Harper', 'Hazel', 'Henry',
  'Isaac', 'Isabella', 'Jack', 'Jackson', 'Jacob', 'James', 'Jayden', 'John', 'Joseph', 'Joshua',
  'Julian', 'Layla', 'Leah', 'Leo', 'Levi', 'Liam', 'Lily', 'Lincoln', 'Logan', 'Lucas',
  'Lucy', 'Luke', 'Madison', 'Mason', 'Matthew', 'Maya', 'Mia', 'Michael', 'Mila', 'Nathan',
  'Nora', 'Oliver', 'Olivia', 'Owen', 'Penelope', 'Riley', 'Ruby', 'Samuel', 'Sarah', 'Scarlett',
  'Sebastian', 'Sofia', 'Sophia', 'Stella', 'Theodore', 'Thomas', 'Victoria', 'Violet', 'William', 'Wyatt',
  'Zoe', 'Zoey', 'Aurora', 'Beatrice', 'Cora', 'Dominic', 'Eliana', 'Felix', 'Gianna', 'Hugo',
  'Iris', 'Jasper', 'Kai', 'Lena', 'Miles', 'Naomi', 'Oscar', 'Piper', 'Quinn', 'Rosa',
  'Silas', 'Talia', 'Uma', 'Vera', 'Wesley', 'Xavier', 'Yara', 'Zachary', 'Ivy', 'Jonah',
];

/**
 * The two role words of a puzzle: who always tells the truth, and who always lies.
 * Singular, lower case ("knight"); plurals add an "s" unless given.
 */
export interface RolePair {
  readonly truthful: string;
  readonly liar: string;
  readonly truthfulPlural?: string;
  readonly liarPlural?: string;
}

/** Named role pairs; `knights` is the K&K dataset's own. */
export const ROLE_PAIRS = {
  knights: { truthful: 'knight', liar: 'knave' },
  saints: { truthful: 'saint', liar: 'sinner' },
  angels: { truthful: 'angel', liar: 'devil' },
  heroes: { truthful: 'hero', liar: 'villain' },
  pioneers: { truthful: 'pioneer', liar: 'laggard' },
  sages: { truthful: 'sage', liar: 'fool' },
  'truth-tellers': { truthful: 'truth-teller', liar: 'liar' },
} as const satisfies Record<string, RolePair>;

export const pluralOf = (word: string): string => `${word}s`;
export const truthfulPlural = (r: RolePair): string => r.truthfulPlural ?? pluralOf(r.truthful);
export const liarPlural = (r: RolePair): string => r.liarPlural ?? pluralOf(r.liar);
/** "a knight" / "an angel". */
export const withArticle = (word: string): string => `${/^[aeiou]/i.test(word) ? 'an' : 'a'} ${word}`;

/**
 * Reads a role pair from a preset name ("saints") or "truthful/liar" text
 * ("saint/sinner"). Throws with the accepted forms when it cannot.
 */
export function parseRolePair(text: string): RolePair {
  const preset = (ROLE_PAIRS as Record<string, RolePair>)[text];
  if (preset) return preset;
  const m = /^\s*([A-Za-z][A-Za-z-]*)\s*\/\s*([A-Za-z][A-Za-z-]*)\s*$/.exec(text);
  if (!m || m[1] === m[2]) {
    throw new Error(
      `bad role pair ${JSON.stringify(text)}: give two different words as "truthful/liar" (e.g. "saint/sinner") or one of ${Object.keys(ROLE_PAIRS).join(', ')}`,
    );
  }
  return { truthful: (m[1] as string).toLowerCase(), liar: (m[2] as string).toLowerCase() };
}
