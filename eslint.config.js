import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import ts from 'typescript-eslint';

export default ts.config(
  { ignores: ['out/', 'dist/', 'node_modules/', 'test-results/', 'playwright-report/', 'bench-results/', 'scratch-catalog/', 'src-main/dino/fixtures/', 'src-main/dino/weights/fixtures/'] },
  js.configs.recommended,
  ...ts.configs.recommended,
  ...svelte.configs['flat/recommended'],
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['src-renderer/**/*.ts', 'src-renderer/**/*.svelte'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: ts.parser, extraFileExtensions: ['.svelte'] } },
  },
  {
    // Only the Electron face may import electron: tests and other faces never load its binary.
    files: ['src-main/**/*.ts', 'src-shared/**/*.ts'],
    ignores: ['src-main/app/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [{ name: 'electron', message: 'only src-main/app may import electron' }] }] },
  },
  {
    files: ['src-renderer/**/*'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['**/src-main/**'], message: 'the renderer talks to the core only through the API' }] }] },
  },
);
