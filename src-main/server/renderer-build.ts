import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type * as Vite from 'vite';
import type * as RendererConfig from '../../renderer.vite.config';
import { defaultRendererDir, repoRoot } from './paths';

/** Newest modification time of any file under the given folders (the renderer's sources). */
function newestSource(dirs: string[]): number {
  let newest = 0;
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.isFile()) newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  for (const d of dirs) if (existsSync(d)) walk(d);
  return newest;
}

export function rendererState(outDir = defaultRendererDir): 'missing' | 'stale' | 'fresh' {
  const index = join(outDir, 'index.html');
  if (!existsSync(index)) return 'missing';
  const sources = [resolve(repoRoot, 'src-renderer'), resolve(repoRoot, 'src-shared')];
  return newestSource(sources) > statSync(index).mtimeMs ? 'stale' : 'fresh';
}

/**
 * Builds the renderer with Vite when it is missing (or stale, if asked), the same way
 * electron.vite.config.ts does for the app. Vite is a dev dependency: without it the error says
 * what to run instead.
 */
export async function ensureRendererBuilt(opts: { rebuildStale?: boolean; log?: (m: string) => void; outDir?: string } = {}): Promise<void> {
  const outDir = opts.outDir ?? defaultRendererDir;
  const state = rendererState(outDir);
  if (state === 'fresh' || (state === 'stale' && !opts.rebuildStale)) return;
  opts.log?.(state === 'missing' ? 'building the UI (first run)...' : 'rebuilding the UI (sources changed)...');
  let vite: typeof Vite;
  let config: typeof RendererConfig;
  try {
    vite = await import('vite');
    config = await import('../../renderer.vite.config');
  } catch {
    throw new Error(`the UI is not built (${outDir} is missing) and Vite is not installed: run \`npm ci && npm run build\``);
  }
  try {
    await vite.build({ ...config.rendererViteConfig(outDir), configFile: false, logLevel: 'warn' });
  } catch (e) {
    throw new Error(`building the UI failed: ${(e as Error).message}; run \`npm run build\` to see why`, { cause: e });
  }
}
