/** Types of eslint.layers.js (the layer table and the ESLint entries built from it). */
import type { Linter } from 'eslint';
export declare const LAYERS: Readonly<Record<string, readonly string[] | null>>;
export declare function layerConfigs(): Linter.Config[];
