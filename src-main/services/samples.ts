import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SampleDTO } from '../../src-shared/api';
import { scanFolders } from '../library/scan';

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

/** Where the bundled sample photos are: resources/sample-photos, or beside a packaged app's resources. */
export function samplesDir(): string {
  const candidates = [
    process.env.DINO_SAMPLES_DIR,
    join(appRoot(), 'resources', 'sample-photos'),
    // electron-builder copies extraResources next to app.asar
    (process as { resourcesPath?: string }).resourcesPath && join((process as { resourcesPath?: string }).resourcesPath!, 'sample-photos'),
  ];
  for (const c of candidates) if (c && existsSync(c)) return resolve(c);
  return join(appRoot(), 'resources', 'sample-photos');
}

/** The sample photos' folder, how many photos it holds, and their licence and attribution. */
export async function sampleInfo(): Promise<SampleDTO> {
  const path = samplesDir();
  const { files } = await scanFolders([path]);
  const licence = await readFile(join(path, 'LICENCE.txt'), 'utf8').catch(
    () => 'The licence file is missing (resources/sample-photos/LICENCE.txt).',
  );
  return { path, count: files.length, licence };
}
