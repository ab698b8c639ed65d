import { resolve } from 'node:path';
import type { ResultOf } from '../../../src-shared/api';
import { getImage } from '../../db/repos/images';
import type { Catalog } from '../catalog/catalog';
import { embedPhoto } from '../embedding/photo-embedding';
import { resolveModel } from '../models/resolve-model';

// What the model looks at in a photo: the last block's [CLS]->patch attention, per head (the viewer's
// overlay, `search --attention`).

function presentPhoto(catalog: Catalog, id: number): string {
  const img = getImage(catalog.db, id);
  if (!img || img.status !== 'ok') throw new Error(`There is no photo ${id}.`);
  return img.path;
}

/** The last block's attention of a photo, per head (in the warm embedder's thread, as search with a photo). */
export async function attentionOf(catalog: Catalog, modelId: number, path: string): Promise<{ heads: number[][]; grid: number }> {
  return (await embedPhoto(catalog, modelId, path, { attention: true })).attention!;
}

/** The maps of a catalog photo under the model (default: the active one), as the viewer draws them. */
export async function attentionMaps(catalog: Catalog, id: number, modelId?: number): Promise<ResultOf<'search:attention'>> {
  const a = await attentionOf(catalog, resolveModel(catalog, modelId, 'weights').id, presentPhoto(catalog, id));
  return { heads: a.heads.length, grid: [a.grid, a.grid], maps: a.heads };
}

/** The maps written as pictures into `dir`: one PNG per head and their mean, over the photo. */
export async function attentionPictures(catalog: Catalog, id: number, modelId: number, dir: string): Promise<string[]> {
  const path = presentPhoto(catalog, id);
  const [a, { writeAttentionPngs }] = await Promise.all([attentionOf(catalog, modelId, path), import('./attention-png')]);
  return writeAttentionPngs(path, a.heads, a.grid, resolve(dir));
}
