import { modelsWithEmbeddings } from '../../db/repos/embeddings';
import { getModel } from '../../db/repos/models';
import { getSetting } from '../../db/repos/settings';
import type { Catalog } from '../catalog/catalog';

export interface ModelRef {
  id: number;
  dim: number;
  name: string;
}

/** The model to use: the one asked for, else setting 'activeModel', else the newest model with embeddings. */
export function resolveModel(catalog: Catalog, modelId?: number): ModelRef {
  if (modelId !== undefined) {
    const m = getModel(catalog.db, modelId);
    if (!m) throw new Error(`There is no model ${modelId} in this catalog.`);
    return { id: m.id, dim: m.dim, name: m.name };
  }
  const active = getSetting(catalog.db, 'activeModel');
  if (typeof active === 'number') {
    const m = getModel(catalog.db, active);
    if (m) return { id: m.id, dim: m.dim, name: m.name };
  }
  const newest = modelsWithEmbeddings(catalog.db)[0];
  if (!newest) throw new Error('No photo has been embedded yet: train or add a model, then run embed.');
  return { id: newest.id, dim: newest.dim, name: newest.name };
}
