// The layers of src/, lowest first: each folder may import only the folders listed for
// it (and itself). An import that points up a layer is a lint error that names the rule.
// README.md ("Layers") explains the table; test/layers.test.ts proves the check fires.
export const LAYERS = {
  util: [],
  sandbox: ['util'],
  data: ['util'],
  kk: ['util', 'data'],
  model: ['util', 'data'],
  reward: ['util', 'data', 'sandbox', 'kk'],
  teacher: ['util', 'data', 'kk'],
  world: ['util', 'data', 'kk'],
  train: ['util', 'data', 'model'],
  tasks: ['util', 'data', 'kk', 'reward', 'teacher', 'world'],
  stages: ['util', 'data', 'kk', 'model', 'reward', 'teacher', 'train', 'tasks'],
  eval: ['util', 'data', 'kk', 'model', 'reward', 'tasks', 'teacher'],
  report: ['util', 'data', 'eval'],
  serve: ['util', 'data', 'model'],
  pipeline: ['util', 'data'],
  cli: null, // the top: may import any folder
};

const ALWAYS = [{ group: ['rxjs/internal/*'], message: 'import from rxjs, not its internals' }];

/** ESLint flat-config entries: one no-restricted-imports rule per folder of src/. */
export function layerConfigs() {
  const folders = Object.keys(LAYERS);
  return folders.map((folder) => {
    const allowed = LAYERS[folder];
    const banned = allowed === null ? [] : folders.filter((f) => f !== folder && !allowed.includes(f));
    const patterns = [
      ...ALWAYS,
      ...banned.map((f) => ({
        group: [`../${f}/*`, `../${f}`],
        message: `src/${folder} may import only ${allowed.length ? allowed.map((a) => `src/${a}`).join(', ') : 'nothing in src'} (eslint.layers.js); src/${f} is not below it`,
      })),
    ];
    return { files: [`src/${folder}/**/*.ts`], rules: { 'no-restricted-imports': ['error', { patterns }] } };
  });
}
