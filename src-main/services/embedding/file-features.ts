import { resolve } from 'node:path';
import { resolveWeights } from '../../dino/weights/resolve';
import type { Catalog } from '../catalog/catalog';
import { embedItems } from './catalog-embedding';

/**
 * `features`: each photo file's embedding (the L2-normalised teacher [CLS], evaluation transform) under
 * the given weights (a file, or an official name downloaded into the catalog's models folder).
 */
export async function fileFeatures(catalog: Catalog, weights: string, files: readonly string[], signal?: AbortSignal): Promise<{ image: string; embedding: number[] }[]> {
  const { path } = await resolveWeights(weights, catalog.paths.models, { signal });
  const images = files.map((p) => resolve(p));
  const vectors = await embedItems(path, images.map((p, i) => ({ id: i, path: p })));
  const missing = images.filter((_, i) => !vectors.has(i));
  if (missing.length) throw new Error(`Cannot read ${missing.join(', ')}`);
  return images.map((image, i) => ({ image, embedding: [...vectors.get(i)!] }));
}
