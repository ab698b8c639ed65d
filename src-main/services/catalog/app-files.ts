import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * True when this code runs from the build (out/main/*.js: Electron, `node out/main/cli.js`, the
 * packaged app), false when it runs from the TypeScript sources (tsx, vitest): a bundled module's
 * URL is its chunk's, which ends in .js.
 */
export const fromBundle = !import.meta.url.endsWith('.ts');

/**
 * The folder holding the app's package.json: the checkout when run from source (CLI, tests, web
 * mode), the app folder in a built Electron app. Found by walking up from this module, because the
 * bundler moves this file (out/main/index.js) but keeps it below the root.
 */
export function appRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'dino-explorer') return dir;
      } catch {
        // not ours; keep walking
      }
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return process.cwd();
}

/** The app's version, from its package.json. */
export function appVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(appRoot(), 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
