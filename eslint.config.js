// Lint: typescript-eslint's recommended rules over sources, tests and benchmarks, plus the layer
// rule: a module under src/<folder>/ may import only the folders listed for it below (imports go
// downward: cli → api → study / eval → sample / train → run → ctf / models / tokenizer / cluster →
// nn → torch → viz / data → io → util). Only src/cli/ parses argv and draws progress bars.
import tseslint from 'typescript-eslint';

// the layers under run/, and the folders each layer above them may import on top
const BELOW_RUN = ['ctf', 'models', 'tokenizer', 'cluster', 'nn', 'torch', 'viz', 'data', 'io', 'util'];
const STUDY = ['eval', 'sample', 'train', 'run', ...BELOW_RUN];
const API = ['study', ...STUDY, 'dist'];
const LOWER = {
  cli: ['api', 'serve', 'verify', ...API],
  serve: ['api', 'eval', 'sample', 'run', ...BELOW_RUN],
  api: API,
  study: STUDY,
  eval: ['sample', 'train', 'run', ...BELOW_RUN, 'dist'],
  sample: ['run', ...BELOW_RUN, 'dist'],
  train: ['run', ...BELOW_RUN, 'dist'],
  verify: ['models', 'tokenizer', 'nn', 'torch', 'data', 'io', 'util'],
  run: BELOW_RUN,
  ctf: ['models', 'cluster', 'nn', 'torch', 'data', 'io', 'util'],
  cluster: ['tokenizer', 'nn', 'torch', 'viz', 'data', 'io', 'util'],
  tokenizer: ['nn', 'torch', 'viz', 'data', 'io', 'util'],
  models: ['nn', 'torch', 'data', 'io', 'util'],
  dist: ['nn', 'torch', 'io', 'util'],
  nn: ['torch', 'util'],
  torch: ['util'],
  viz: ['io', 'util'],
  data: ['io', 'util'],
  io: ['util'],
  util: [],
};
const FOLDERS = Object.keys(LOWER);

const layerRules = FOLDERS.map((folder) => ({
  files: [`src/${folder}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          {
            group: [...FOLDERS.filter((f) => f !== folder && !LOWER[folder].includes(f)).map((f) => `../${f}/*`), '../index.js'],
            message: `src/${folder}/ may import only ${LOWER[folder].join(', ') || 'nothing else in src'} (layers go downward; only src/cli/ parses argv or draws progress bars).`,
          },
        ],
      },
    ],
  },
}));

export default tseslint.config(
  { ignores: ['dist/', 'native/build/', 'node_modules/', 'runs/'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  // the package's entry point re-exports the library, never the command line
  {
    files: ['src/index.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['./cli/*'], message: 'the library API must not import the CLI' }] }],
    },
  },
  ...layerRules,
);
