#!/usr/bin/env node
// `npx dino-explorer` in a checkout runs the TypeScript sources through tsx (a dev dependency), so an
// edit takes effect without a build; workers register tsx themselves (services/worker-bootstrap.js).
// Without tsx (`npm ci --omit=dev`), or with DINO_FROM=bundle, it runs the build: out/main/cli.js.
import { existsSync } from 'node:fs';

const bundle = new URL('../out/main/cli.js', import.meta.url);

async function tsx() {
  if (process.env.DINO_FROM === 'bundle') return null;
  try {
    return await import('tsx/esm/api');
  } catch {
    return null;
  }
}

const loader = await tsx();
if (loader) {
  loader.register();
  await import('../src-main/entries/cli.ts');
} else if (existsSync(bundle)) {
  await import(bundle.href);
} else {
  process.stderr.write('dino-explorer: the build (out/main/cli.js) is missing: run `npm run build` (or `npm ci` for tsx, which runs the sources)\n');
  process.exitCode = 1;
}
