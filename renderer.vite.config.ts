// The renderer's Vite settings, shared by electron.vite.config.ts (the app build) and by web mode,
// which builds the UI on demand when out/renderer is missing (src-main/server/renderer-build.ts).
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InlineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export function rendererViteConfig(outDir = resolve(root, 'out', 'renderer')): InlineConfig {
  return {
    root: resolve(root, 'src-renderer'),
    // relative asset URLs work both under app:// in Electron and under http://127.0.0.1:PORT/
    base: './',
    plugins: [svelte()],
    build: {
      outDir,
      emptyOutDir: true,
      target: 'chrome120',
      minify: true,
      // no inline module-preload polyfill: the CSP allows no inline script
      modulePreload: { polyfill: false },
      assetsInlineLimit: 0,
      // the UI, and the Electron GPU window's page (gpu/index.html: the model code on WebGPU, no UI)
      rolldownOptions: { input: { index: resolve(root, 'src-renderer', 'index.html'), gpu: resolve(root, 'src-renderer', 'gpu', 'index.html') } },
    },
  };
}
