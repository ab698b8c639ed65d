// `FILE|NAME` as the CLI and the UI take it (`models add`, `train --from`, `features --weights`):
// an existing file is used as it is; an official checkpoint name is looked up in the catalog's
// models folder and downloaded there first when missing.

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { downloadOfficial, type DownloadOptions } from './download';
import { findOfficial, OFFICIAL_CHECKPOINTS, type OfficialCheckpoint } from './official';

export interface ResolvedWeights {
  path: string;
  /** the catalogue entry when NAME was an official checkpoint */
  official?: OfficialCheckpoint;
  /** true when this call downloaded the file */
  downloaded: boolean;
}

export async function resolveWeights(
  fileOrName: string,
  modelsDir: string,
  opts: Pick<DownloadOptions, 'onProgress' | 'signal' | 'sha256'> & { baseUrl?: string } = {},
): Promise<ResolvedWeights> {
  const official = findOfficial(fileOrName);
  if (official) {
    const r = await downloadOfficial(official.name, modelsDir, opts);
    return { path: r.path, official, downloaded: !r.existing };
  }
  const path = resolve(fileOrName);
  if (existsSync(path)) return { path, downloaded: false };
  throw new Error(`${fileOrName}: no such file, and not an official checkpoint name (${OFFICIAL_CHECKPOINTS.map((c) => c.name).join(', ')})`);
}
