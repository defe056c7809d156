// Lint: typescript-eslint's recommended rules over sources, tests and benchmarks.
import tseslint from 'typescript-eslint';

export default tseslint.config({ ignores: ['dist/', 'native/build/', 'node_modules/', 'runs/'] }, ...tseslint.configs.recommended, {
  rules: {
    '@typescript-eslint/no-non-null-assertion': 'off',
    '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
  },
});
