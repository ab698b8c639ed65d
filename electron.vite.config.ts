// The desktop app's build: main process, sandboxed preload, and the Svelte renderer.
// `npx electron-vite build` works without the Electron binary (it only reads electron's version).
import { defineConfig } from 'electron-vite';
import { resolve } from 'node:path';
import { rendererViteConfig } from './renderer.vite.config';

const renderer = rendererViteConfig(resolve('out/renderer'));

export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      // boot.ts loads src-main/app/main.ts through tsx (see there why it is not bundled)
      rolldownOptions: { input: { index: resolve('src-main/app/boot.ts') } },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      // A sandboxed preload cannot load ES modules or other files: one self-contained CommonJS file.
      externalizeDeps: false,
      rolldownOptions: {
        input: { index: resolve('src-main/app/preload.ts') },
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
