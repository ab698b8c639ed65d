import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { OfficialWeightsDTO, ReachableDTO } from '../../../src-shared/api';
import { findOfficial, OFFICIAL_CHECKPOINTS, officialUrl, type OfficialCheckpoint } from '../../dino/weights/official';
import { officialTitle } from '../../dino/weights/official-title';
import { probeReachable } from '../../dino/weights/reachable';
import type { Catalog } from '../catalog/catalog';

// The official DINO checkpoints the app offers (dino/weights/official.ts), as the faces list them.

/** The official weights the app recommends: DINO ViT-S/16 (ImageNet k-NN 74.5 %, 82 MB). */
export const RECOMMENDED_WEIGHTS = 'dino_vits16';

/** The names `models add NAME` takes. */
export const OFFICIAL_NAMES: readonly string[] = OFFICIAL_CHECKPOINTS.map((c) => c.name);

/** Whether an official checkpoint is in the models folder, and how much of an interrupted download is. */
function officialFileState(modelsDir: string, c: OfficialCheckpoint): { size: number | null; downloaded: boolean; partialBytes: number } {
  const file = join(modelsDir, c.file);
  const part = `${file}.part`;
  return { size: c.size ?? null, downloaded: existsSync(file), partialBytes: existsSync(part) ? statSync(part).size : 0 };
}

/** Asks the download host of an official checkpoint whether it answers (a few seconds at most). */
export async function officialReachable(name = RECOMMENDED_WEIGHTS): Promise<ReachableDTO> {
  const c = findOfficial(name);
  if (!c) throw new Error(`unknown official checkpoint "${name}"`);
  const r = await probeReachable(officialUrl(c), { timeoutMs: 4000 });
  return { reachable: r.reachable, host: r.host, reason: r.reason };
}

/** Every official checkpoint with what it is and whether (or how much of) it is in the catalog's models folder. */
export function officialWeightsDTOs(catalog: Catalog): OfficialWeightsDTO[] {
  return OFFICIAL_CHECKPOINTS.map((c) => ({
    name: c.name,
    title: officialTitle(c),
    arch: `${c.arch}/${c.patchSize}`,
    description: `${c.kind === 'backbone' ? 'backbone' : 'full checkpoint (student, teacher, head: best for fine-tuning)'}; ImageNet k-NN ${c.knn} %`,
    ...officialFileState(catalog.paths.models, c),
  }));
}
