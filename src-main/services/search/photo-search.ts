import type { NeighbourDTO } from '../../../src-shared/api';
import type { Catalog } from '../catalog/catalog';
import { embedPhoto, embedPhotoBytes, type PhotoEmbeddingOptions } from '../embedding/photo-embedding';
import { resolveModel } from '../models/resolve-model';
import { searchByVector, type SearchOptions } from './similar-photos';

/** A photo from outside the catalog: a file (the CLI), or its bytes (drag and drop, the web page's file picker). */
export type OutsidePhoto = { file: string } | { bytes: Uint8Array };

/**
 * Search with a photo: its embedding under the model (the same transform as the catalog's photos; the
 * warm embedder keeps the model loaded for the next one), then the catalog's photos nearest to it.
 */
export async function searchWithPhoto(
  catalog: Catalog,
  photo: OutsidePhoto,
  opts: SearchOptions & Pick<PhotoEmbeddingOptions, 'fresh'> = {},
): Promise<{ model: number; results: NeighbourDTO[] }> {
  const model = resolveModel(catalog, opts.modelId, 'embeddings');
  const how = { fresh: opts.fresh };
  const vector = 'file' in photo ? (await embedPhoto(catalog, model.id, photo.file, how)).vector : await embedPhotoBytes(catalog, model.id, photo.bytes, how);
  return { model: model.id, results: await searchByVector(catalog, vector, { ...opts, modelId: model.id }) };
}
