/** Small text helpers shared by the parsers, renderers and tokenizers. */

/** Escapes a string for use inside a RegExp. */
export const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Upper-cases the first character. */
export const capitalise = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
