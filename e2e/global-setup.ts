import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ensureRendererBuilt } from '../src-main/server/renderer-build';
import { repoRoot, useElectron } from './electron';

/** The specs run the built app: build it first (only the renderer for web mode, when stale). */
export default async function globalSetup(): Promise<void> {
  if (useElectron()) {
    const r = spawnSync(process.execPath, [join(repoRoot, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'], { cwd: repoRoot, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('electron-vite build failed');
    return;
  }
  await ensureRendererBuilt({ rebuildStale: true, log: (m) => console.log(m) });
}
