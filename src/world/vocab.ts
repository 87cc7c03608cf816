/**
 * The words of the toy world. People share the K&K islanders' names, so a base that
 * learned to copy a name from its question can copy an islander's name from a quiz.
 */
import { DEFAULT_NAMES } from '../kk/names.js';

export const NAMES: readonly string[] = DEFAULT_NAMES;

/** Countable things, plural. */
export const THINGS: readonly string[] = ['apples', 'marbles', 'coins', 'books', 'stamps', 'shells', 'pencils', 'cards', 'stones', 'cookies', 'eggs', 'flowers', 'buttons', 'boxes', 'keys', 'ribbons'];

/** Kinds of creature, with the facts the world states about them. */
export interface Creature {
  readonly name: string;
  readonly color: string;
  readonly home: string;
  readonly food: string;
  readonly legs: number;
}

export const COLORS: readonly string[] = ['red', 'blue', 'green', 'yellow', 'white', 'black', 'brown', 'orange', 'purple', 'grey'];
export const HOMES: readonly string[] = ['forest', 'river', 'cave', 'meadow', 'desert', 'lake', 'hill', 'marsh'];
export const FOODS: readonly string[] = ['seeds', 'fish', 'berries', 'grass', 'leaves', 'nuts', 'roots', 'bugs'];
export const LEG_COUNTS: readonly number[] = [0, 2, 4, 6, 8];

/** Made-up creature names: one word each, none a real animal, so every fact comes from the corpus. */
export const CREATURE_NAMES: readonly string[] = [
  'blick', 'dorp', 'fenwit', 'glim', 'harrow', 'jusk', 'kell', 'lorn', 'mip', 'norl', 'quill', 'rask', 'sorrel', 'tove', 'umber', 'vell',
  'wisp', 'yarrow', 'zell', 'brindle', 'crisk', 'dapple', 'ember', 'flit', 'gorse', 'hobb', 'ivet', 'jask', 'krill', 'lumen', 'morrow', 'nettle',
  'orrin', 'pell', 'quoll', 'rill', 'skerry', 'tansy', 'urchin', 'vesper',
];
