import type { StatusDTO } from '../../../src-shared/api';
import { countByStatus } from '../../db/repos/images';
import { backendOptions, probeBackend } from '../backends/backend-probe';
import { modelDTOs } from '../models/model-list';
import { activeModelId } from '../models/resolve-model';
import { appVersion } from './app-files';
import type { Catalog } from './catalog';
import { backendPreference } from './app-settings';

const version = appVersion();

/** What the catalog holds and what computes here: the app's status bar and `dino-explorer status`, so the two never disagree. */
export async function appStatus(catalog: Catalog): Promise<StatusDTO> {
  const counts = countByStatus(catalog.db);
  const [backend, options] = await Promise.all([probeBackend(backendPreference(catalog)), backendOptions()]);
  return {
    catalog: catalog.paths.root,
    images: counts.ok,
    failed: counts.failed,
    gone: counts.gone,
    models: modelDTOs(catalog),
    activeModel: activeModelId(catalog),
    backend: backend.description,
    backendFallbacks: backend.fallbacks,
    backendHint: backend.hint ?? null,
    backendOptions: options,
    version,
  };
}
