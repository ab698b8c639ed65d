import type { FailureDTO, ImageDTO, Page } from '../../../src-shared/api';
import { countByStatus, getImage, listFailures, listImages, toImageDTO } from '../../db/repos/images';
import type { Catalog } from '../catalog/catalog';

// The library as the faces page through it: good photos in path order, one photo, the failures.

export function imagePage(catalog: Catalog, offset: number, limit: number): Page<ImageDTO> {
  const { items, total } = listImages(catalog.db, offset, limit);
  return { items: items.map(toImageDTO), total, offset };
}

export function imageOf(catalog: Catalog, id: number): ImageDTO {
  const row = getImage(catalog.db, id);
  if (!row) throw new Error(`No photo with id ${id}`);
  return toImageDTO(row);
}

export function importFailures(catalog: Catalog): FailureDTO[] {
  return listFailures(catalog.db);
}

/** Whether the catalog knows no photo (good or failed; gone ones do not count): `serve --samples-if-empty`. */
export function libraryIsEmpty(catalog: Catalog): boolean {
  const counts = countByStatus(catalog.db);
  return counts.ok + counts.failed === 0;
}
