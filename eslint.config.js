import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import ts from 'typescript-eslint';

const ELECTRON = { name: 'electron', message: 'only src-main/app may import electron' };
const TEST_HELPERS = { group: ['**/testing/**'], message: 'src-main/testing/ holds test helpers: for tests and benchmarks only' };
/** the faces, and api/, the channel table that app/, server/ and cli/ serve */
const FACES = ['api', 'app', 'server', 'cli'];
/** no face but `face` itself; api/ (the channel table) only for the faces that serve it */
function facesBut(face) {
  const others = [...FACES.filter((f) => f !== face && !(f === 'api' && face !== undefined)), 'entries'];
  return { group: others.map((f) => `**/${f}/**`), message: face ? `a face does not import another face (${others.join(', ')}); shared code moves down into services/` : 'the core imports no face' };
}

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
      // \`import { type X } from 'm'\` keeps \`import 'm'\` in the build: a first screen that loaded the model code
      '@typescript-eslint/no-import-type-side-effects': 'error',
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
    rules: { 'no-restricted-imports': ['error', { paths: [ELECTRON] }] },
  },
  {
    // Imports run downward: the core (services/ and below) imports no face, and nothing but tests and
    // benchmarks imports the test helpers.
    files: ['src-main/**/*.ts'],
    ignores: ['src-main/app/**', 'src-main/api/**', 'src-main/cli/**', 'src-main/server/**', 'src-main/entries/**', 'src-main/testing/**', 'src-main/bench/**', '**/*.test.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [ELECTRON], patterns: [TEST_HELPERS, facesBut()] }] },
  },
  // The faces are thin (docs/architecture.md): each reaches the core through services/ (and the channel
  // table in api/), never db/ or dino/ directly, and no face imports another; src-main/entries/ (the CLI's
  // entry, which hands it web mode) is the one place that holds two faces.
  ...FACES.map((face) => ({
    files: [`src-main/${face}/**/*.ts`],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: face === 'app' ? [] : [ELECTRON],
        patterns: [TEST_HELPERS, { group: ['**/db/**', '**/dino/**'], message: `${face}/ is a face: it reaches the database and the model code through services/` }, facesBut(face)],
      }],
    },
  })),
  {
    // the UI: the core only through the API, and nothing of the GPU window's page
    files: ['src-renderer/**/*'],
    ignores: ['src-renderer/gpu/**'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['**/src-main/**'], message: 'the renderer talks to the core only through the API' },
          { group: ['**/gpu/**'], message: "the UI imports nothing of the GPU window's page" },
        ],
      }],
    },
  },
  {
    // The GPU window's page and the job code it shares with the workers: a sandboxed page without Node.
    // They import the model code (dino/) and tfjs, never Node, the core's other layers, or the UI.
    // (tsconfig.gpu.json checks the same through every import, without Node's types.)
    files: ['src-renderer/gpu/**/*.ts', 'src-main/compute/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        // Node's builtins by their bare names too (exact: a pattern `net` would match model/net)
        paths: [
          'electron', 'better-sqlite3', 'sharp', 'hnswlib-node', 'webgpu', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu',
          'fs', 'path', 'os', 'module', 'url', 'util', 'events', 'crypto', 'worker_threads', 'child_process', 'stream', 'http', 'https', 'net', 'buffer', 'process',
        ].map((name) => ({ name, message: "the GPU window's page runs without Node" })),
        patterns: [
          { group: ['node:*', 'fs/*'], message: "the GPU window's page runs without Node" },
          { group: ['**/services/**', '**/db/**', '**/app/**', '**/server/**', '**/cli/**', '**/api/**', '**/library/**', '**/vector-index/**', '**/analysis/**', '**/export/**', '**/evaluation/**', '**/bench/**',
            // the plain maths of the label-free scores (compute/label-free-score.ts): no Node, no I/O
            '!**/analysis/rankme', '!**/analysis/eigen', '!**/analysis/twin-retrieval', '!**/analysis/vectors'], message: "the GPU window's page imports the model code (dino/) only: the main process reads photos and files" },
          // of weights/ the page takes net-source.ts only: a network as data and back, no Node
          { group: ['**/dino/runtime/node/**', '**/dino/weights/**', '!**/dino/weights/net-source'], message: "Node's half of dino/ (runtime/node/, weights/): the page starts its backend from navigator.gpu (dino/runtime/gpu-device.ts)" },
          { group: ['**/src-renderer/src/**', '../src/**'], message: "the GPU window's page is no part of the UI" },
        ],
      }],
    },
  },
  // dino/ is a leaf, and its rooms stack up (src-main/dino/README.md): runtime/ under model/ under
  // weights/ under train/, with runtime/node/ (Node's backends and kernels) and embed.ts over them all.
  ...dinoRooms({
    'src-main/dino/runtime/*.ts': ['../model/**', '../weights/**', '../train/**', './node/**', '../embed'],
    'src-main/dino/model/**/*.ts': ['../weights/**', '../train/**', '../runtime/node/**', '../embed'],
    'src-main/dino/weights/**/*.ts': ['../train/**', '../runtime/node/**', '../embed'],
    'src-main/dino/train/**/*.ts': ['../runtime/node/**', '../embed'],
  }),
);

/** The import rule of each dino/ room: the leaf's bans plus what lies above that room. */
function dinoRooms(above) {
  const leaf = {
    group: ['**/db/**', '**/services/**', '**/vector-index/**', '**/compute/**', '**/api/**', '**/cli/**', '**/app/**', '**/server/**',
      '**/library/**', '**/analysis/**', '**/export/**', '**/evaluation/**', '**/bench/**', '**/testing/**', '**/src-shared/**', '**/src-renderer/**'],
    message: 'dino/ is a leaf: the layers above call it, it calls none of them',
  };
  const rule = (groups) => ['error', {
    paths: [ELECTRON],
    patterns: [leaf, ...(groups.length ? [{ group: groups, message: "a dino/ room imports only the rooms under it (src-main/dino/README.md)" }] : [])],
  }];
  return [
    { files: ['src-main/dino/**/*.ts'], ignores: ['**/*.test.ts'], rules: { 'no-restricted-imports': rule([]) } },
    ...Object.entries(above).map(([files, groups]) => ({ files: [files], ignores: ['**/*.test.ts'], rules: { 'no-restricted-imports': rule(groups) } })),
  ];
}
