/** Knights & Knaves: statements, solver, generator, renderer and parsers. */
export * from './statement.js';
export * from './solver.js';
export * from './names.js';
export * from './render.js';
export * from './generator.js';
export * from './parse-quiz.js';
export * from './parse-answer.js';
export type { Puzzle } from './puzzle.js';
export * from './check.js';
