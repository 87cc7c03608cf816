// Lint: typescript-eslint's recommended, type-aware rules over src, test and pipelines.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { layerConfigs } from './eslint.layers.js';

export default tseslint.config(
  // Fixture reward modules are deliberately hostile plain JS: not linted.
  { ignores: ['dist/', 'node_modules/', 'runs/', 'scratch/', 'coverage/', 'test/fixtures/rewards/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js', 'bin/*.js', 'scripts/*.mjs'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': ['error', { patterns: ['rxjs/internal/*'] }],
    },
  },
  // Layers: an import that points up is an error (eslint.layers.js).
  ...layerConfigs(),
  {
    // TensorFlow.js ops return loosely typed tensors; shape casts there are documentation, not noise.
    files: ['src/model/**/*.ts', 'src/train/**/*.ts', 'test/model/**/*.ts', 'test/bench/model.ts'],
    rules: { '@typescript-eslint/no-unnecessary-type-assertion': 'off' },
  },
  {
    files: ['**/*.js', 'scripts/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly' } },
  },
);
