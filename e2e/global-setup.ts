import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { bundleState } from './bundle';
import { repoRoot } from './electron';

/**
 * The specs run the build (out/), in web mode as in the app: build it when it is missing or older
 * than its sources (CI's build stage has just made it).
 */
export default function globalSetup(): void {
  const state = bundleState();
  if (state === 'fresh') return;
  console.log(`the build is ${state}: npm run build`);
  const r = spawnSync(process.execPath, [join(repoRoot, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'], { cwd: repoRoot, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('electron-vite build failed');
}
