import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as Vite from 'vite';
import type * as RendererConfig from '../../renderer.vite.config';
import { fromBundle } from '../services/catalog/app-files';
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
  // the build's UI is built with it (its sources, if any lie beside it, are not what runs)
  if (fromBundle) return 'fresh';
  const sources = [resolve(repoRoot, 'src-renderer'), resolve(repoRoot, 'src-shared')];
  return newestSource(sources) > statSync(index).mtimeMs ? 'stale' : 'fresh';
}

/**
 * A module named at run time, which the bundler leaves alone: the build must not take in Vite (a dev
 * dependency) or the renderer's build config, which only the sources use.
 */
function importAtRunTime<T>(specifier: string): Promise<T> {
  return import(specifier) as Promise<T>;
}

/**
 * Builds the renderer with Vite when it is missing (or stale, if asked), the same way
 * electron.vite.config.ts does for the app, when running from the sources. Vite is a dev dependency:
 * without it the error says what to run instead. The build (out/) has its UI built with it.
 */
export async function ensureRendererBuilt(opts: { rebuildStale?: boolean; log?: (m: string) => void; outDir?: string } = {}): Promise<void> {
  const outDir = opts.outDir ?? defaultRendererDir;
  const state = rendererState(outDir);
  if (state === 'fresh' || (state === 'stale' && !opts.rebuildStale)) return;
  if (fromBundle) throw new Error(`the UI is missing from this build (${outDir}): run \`npm run build\``);
  opts.log?.(state === 'missing' ? 'building the UI (first run)...' : 'rebuilding the UI (sources changed)...');
  let vite: typeof Vite;
  let config: typeof RendererConfig;
  try {
    vite = await importAtRunTime<typeof Vite>('vite');
    config = await importAtRunTime<typeof RendererConfig>(pathToFileURL(resolve(repoRoot, 'renderer.vite.config.ts')).href);
  } catch {
    throw new Error(`the UI is not built (${outDir} is missing) and Vite is not installed: run \`npm ci && npm run build\``);
  }
  try {
    await vite.build({ ...config.rendererViteConfig(outDir), configFile: false, logLevel: 'warn' });
  } catch (e) {
    throw new Error(`building the UI failed: ${(e as Error).message}; run \`npm run build\` to see why`, { cause: e });
  }
}
