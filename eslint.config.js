// Lint rules for the whole tree: typescript-eslint's recommended set, and the few rules that keep
// refusals named and code honest. Formatting is Prettier's job, not ESLint's.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['firmware/platform/moddable/native/*.js', 'node_modules/', 'data/', 'data-threshold/', 'build/', 'test-results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'no-constant-condition': ['error', { checkLoops: false }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    // The XS bridge, the harness (host/xs/) and tests handle commands of any shape that the other
    // side of a pipe sends; the rest of firmware/ and host/ types what it accepts.
    files: ['test/**/*.ts', 'tools/**/*.ts', 'host/xs/**/*.ts', 'firmware/platform/xs-sim/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Ambient declarations of the SDK's globals need `var`.
    files: ['**/*.d.ts'],
    rules: { 'no-var': 'off', '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // The dashboard runs in the browser (its own tsconfig with the DOM types): no Node globals there.
    files: ['host/dashboard/**/*.ts'],
    languageOptions: {
      globals: {
        document: 'readonly',
        window: 'readonly',
        location: 'readonly',
        history: 'readonly',
        sessionStorage: 'readonly',
        fetch: 'readonly',
        setTimeout: 'readonly',
        setInterval: 'readonly',
        ResizeObserver: 'readonly',
        TextDecoderStream: 'readonly',
        AbortController: 'readonly',
      },
    },
  },
  {
    files: ['bin/**/*.js', 'eslint.config.js', '.dependency-cruiser.cjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', module: 'writable', require: 'readonly' } },
  },
);
