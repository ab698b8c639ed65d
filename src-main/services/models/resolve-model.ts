import { modelsWithEmbeddings } from '../../db/repos/embeddings';
import { getModel, listModels, type ModelRow } from '../../db/repos/models';
import { getSetting, setSetting } from '../../db/repos/settings';
import type { Catalog } from '../catalog/catalog';

// Which model a request means, in one place: every face and service that takes an optional model id
// resolves it here, with the same fallback and the same messages.

/** What the index and the analyses need to know of a model. */
export interface ModelRef {
  id: number;
  dim: number;
  name: string;
}

/**
 * What the caller will do with the model: run its weights (embed, train from it, search with a photo's
 * attention), or read its embeddings (search, duplicates, clusters, the map), which only a model that
 * embedded photos has.
 */
export type ModelNeed = 'weights' | 'embeddings';

/**
 * The model a request means: the one named (which must exist), else the active one (setting
 * 'activeModel', when it names a model), else the newest model, or the newest with embeddings when
 * those are what is needed.
 */
export function resolveModel(catalog: Catalog, modelId: number | undefined, needs: ModelNeed): ModelRow {
  if (modelId !== undefined) {
    const m = getModel(catalog.db, modelId);
    if (!m) throw new Error(`There is no model ${modelId} in this catalog.`);
    return m;
  }
  const active = activeModel(catalog);
  if (active) return active;
  if (needs === 'embeddings') {
    const newest = modelsWithEmbeddings(catalog.db)[0];
    if (!newest) throw new Error('No photo has been embedded yet: train or add a model, then run embed.');
    return getModel(catalog.db, newest.id)!;
  }
  const newest = listModels(catalog.db)[0];
  if (!newest) throw new Error('This catalog has no model yet: train one (dino-explorer train) or add official weights (dino-explorer models add NAME).');
  return newest;
}

/** The active model (setting 'activeModel'), or null when unset or it names no model of the catalog. */
export function activeModelId(catalog: Catalog): number | null {
  return activeModel(catalog)?.id ?? null;
}

function activeModel(catalog: Catalog): ModelRow | undefined {
  const id = getSetting(catalog.db, 'activeModel');
  return typeof id === 'number' ? getModel(catalog.db, id) : undefined;
}

/** Makes a model of the catalog the active one (the one every request without a model id means). */
export function setActiveModel(catalog: Catalog, id: number): void {
  if (!getModel(catalog.db, id)) throw new Error(`There is no model ${id}.`);
  setSetting(catalog.db, 'activeModel', id);
}
