/**
 * Names the CLI needs before TensorFlow.js loads (importing it costs ~0.3 s, which
 * commands that never touch a model should not pay).
 */
export const BACKEND_NAMES = ['node-gpu', 'node', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
export const PRESET_NAMES = ['tiny', 'small', 'base'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];
