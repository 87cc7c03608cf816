/**
 * warmup: train reasoning language models when good training data is scarce.
 *
 * The library surface: Knights & Knaves engine, Arrow datasets and RxJS stages.
 */
export * from './kk/index.js';
export * from './data/schemas.js';
export * from './data/records.js';
export * from './data/ipc.js';
export * from './data/dataset.js';
export * from './data/puzzles.js';
export * from './stages/io.js';
export * from './stages/kk-generate.js';
export { Rng, deriveSeed } from './util/rng.js';
