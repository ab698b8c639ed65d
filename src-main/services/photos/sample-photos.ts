import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { SampleDTO } from '../../../src-shared/api';
import { scanFolders } from '../../library/scan';
import { appRoot } from '../catalog/app-files';

/** Where the bundled sample photos are: resources/sample-photos, or beside a packaged app's resources. */
function samplesDir(): string {
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
