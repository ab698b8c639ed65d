import { listModels, toModelDTO } from '../../db/repos/models';
import { modelQuality } from '../../db/repos/quality';
import type { ModelDTO } from '../../../src-shared/api';
import type { Catalog } from '../catalog/catalog';

export function modelDTOs(catalog: Catalog): ModelDTO[] {
  return listModels(catalog.db).map((m) => toModelDTO(m, modelQuality(catalog.db, m.id)));
}
