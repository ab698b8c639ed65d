import type { NeighbourDTO } from '../../../src-shared/api';
import type { Catalog } from '../catalog/catalog';
import { embedOutsideBytes, embedOutsideImage } from '../embedding/catalog-embedding';
import { resolveModel } from '../models/resolve-model';
import { searchByVector, type SearchOptions } from './similar-photos';

/** A photo from outside the catalog: a file (the CLI), or its bytes (drag and drop, the web page's file picker). */
export type OutsidePhoto = { file: string } | { bytes: Uint8Array };

/**
 * Search with a photo: its embedding under the model (the same transform as the catalog's photos),
 * then the catalog's photos nearest to it, best first.
 */
export async function searchWithPhoto(catalog: Catalog, photo: OutsidePhoto, opts: SearchOptions = {}): Promise<{ model: number; results: NeighbourDTO[] }> {
  const model = resolveModel(catalog, opts.modelId, 'embeddings');
  const vector = 'file' in photo ? await embedOutsideImage(catalog, model.id, photo.file) : await embedOutsideBytes(catalog, model.id, photo.bytes);
  return { model: model.id, results: await searchByVector(catalog, vector, { ...opts, modelId: model.id }) };
}
