import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './electron';

/** The built CLI (web mode's server, the catalog set-up): every spec runs the build, not the sources. */
export const BUNDLED_CLI = join(repoRoot, 'out', 'main', 'cli.js');

/** what `npm run build` writes; the oldest of them dates the build */
const OUTPUTS = ['out/main/index.js', 'out/main/cli.js', 'out/preload/index.cjs', 'out/preload/gpu.cjs', 'out/renderer/index.html', 'out/renderer/gpu/index.html'];
/** what it is built from */
const INPUTS = ['src-main', 'src-shared', 'src-renderer', 'native/blas/index.js', 'electron.vite.config.ts', 'renderer.vite.config.ts', 'package.json'];

function newest(path: string): number {
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  let t = 0;
  for (const e of readdirSync(path)) t = Math.max(t, newest(join(path, e)));
  return t;
}

/** Whether out/ is missing, older than a file it is built from, or up to date. */
export function bundleState(): 'missing' | 'stale' | 'fresh' {
  const outputs = OUTPUTS.map((p) => join(repoRoot, p));
  if (!outputs.every((p) => existsSync(p))) return 'missing';
  const built = Math.min(...outputs.map((p) => statSync(p).mtimeMs));
  const sources = Math.max(...INPUTS.map((p) => join(repoRoot, p)).filter((p) => existsSync(p)).map(newest));
  return sources > built ? 'stale' : 'fresh';
}
