import { getModel, listModels, toModelDTO } from '../../db/repos/models';
import { modelQuality } from '../../db/repos/quality';
import { getSetting } from '../../db/repos/settings';
import type { ModelDTO } from '../../../src-shared/api';
import type { Catalog } from '../catalog/catalog';

/** The model a command means: the one named, else the active one, else the newest. */
export function resolveModelId(catalog: Catalog, modelId?: number): number {
  if (modelId !== undefined) {
    if (!getModel(catalog.db, modelId)) throw new Error(`There is no model ${modelId} in this catalog.`);
    return modelId;
  }
  const active = getSetting(catalog.db, 'activeModel');
  if (typeof active === 'number' && getModel(catalog.db, active)) return active;
  const newest = listModels(catalog.db)[0];
  if (!newest) throw new Error('This catalog has no model yet: train one (dino-explorer train) or add official weights (dino-explorer models add NAME).');
  return newest.id;
}

export function modelDTOs(catalog: Catalog): ModelDTO[] {
  return listModels(catalog.db).map((m) => toModelDTO(m, modelQuality(catalog.db, m.id)));
}
