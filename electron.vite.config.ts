// The app's build (`npm run build`): main process, CLI and workers, the sandboxed preload, and the
// Svelte renderer, all in out/. Works without the Electron binary (it only reads electron's version).
import { defineConfig } from 'electron-vite';
import { resolve } from 'node:path';
import { rendererViteConfig } from './renderer.vite.config';
import { WORKER_ENTRIES } from './src-main/services/threads/worker-entries';

const renderer = rendererViteConfig(resolve('out/renderer'));

const blasLoader = resolve('native/blas/index.js');
const workers = Object.fromEntries(Object.entries(WORKER_ENTRIES).map(([name, source]) => [name, resolve(source)]));

export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      rolldownOptions: {
        // index.js: Electron's main; cli.js: `node out/main/cli.js` (web mode, the CLI); one file per worker
        input: { index: resolve('src-main/app/main.ts'), cli: resolve('src-main/entries/cli.ts'), ...workers },
        // The optional BLAS addon's loader finds its .node file beside itself, so it stays a file of its
        // own, outside the bundle: imported from out/main, two folders below the root, whatever folder
        // of the sources imports it.
        external: [blasLoader],
        output: {
          // One flat folder: workerModule() finds out/main/<worker>.js from whichever chunk it lands in.
          entryFileNames: '[name].js',
          chunkFileNames: '[name]-[hash].js',
          paths: { [blasLoader]: '../../native/blas/index.js' },
        },
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      // A sandboxed preload cannot load ES modules or other files: one self-contained CommonJS file
      // each, the UI's (index.cjs) and the hidden GPU window's (gpu.cjs: hands job ports to its page).
      externalizeDeps: false,
      rolldownOptions: {
        input: { index: resolve('src-main/app/preload.ts'), gpu: resolve('src-main/app/gpu-preload.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: renderer.root,
    base: renderer.base,
    plugins: renderer.plugins,
    build: renderer.build,
  },
});
