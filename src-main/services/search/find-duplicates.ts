import { exactDuplicateGroups, nearDuplicateGroups, UnionFind } from '../../analysis/duplicates';
import { getImage, sameContentImages } from '../../db/repos/images';
import type { Catalog } from '../catalog/catalog';
import { GRAPH_K, neighbourGraph } from '../index/neighbour-graph';
import { resolveModel, type ModelRef } from '../models/resolve-model';

/**
 * Duplicate groups: exact duplicates (same content hash, any photo present) joined with
 * near-duplicates (kNN similarity >= threshold under the model, when photos are embedded).
 * Default threshold 0.95: not yet measured on real photos (needs trained embeddings); adjustable.
 */
export async function findDuplicates(catalog: Catalog, opts: { threshold?: number; modelId?: number } = {}): Promise<{ id: number; path: string }[][]> {
  const threshold = opts.threshold ?? 0.95;
  const groups: number[][] = exactDuplicateGroups(sameContentImages(catalog.db)).map((g) => g.map((r) => r.id));
  let model: ModelRef | null = null;
  try {
    model = resolveModel(catalog, opts.modelId, 'embeddings');
  } catch (e) {
    if (opts.modelId !== undefined) throw e;
  }
  if (model) {
    const { ids, graph } = await neighbourGraph(catalog, model, GRAPH_K);
    for (const g of nearDuplicateGroups(graph, threshold)) groups.push(g.map((p) => ids[p]!));
  }
  // join overlapping groups (an exact copy is also a near copy)
  const all = [...new Set(groups.flat())];
  const at = new Map(all.map((id, i) => [id, i]));
  const uf = new UnionFind(all.length);
  for (const g of groups) for (const id of g.slice(1)) uf.union(at.get(g[0]!)!, at.get(id)!);
  const merged = new Map<number, number[]>();
  for (const id of all) {
    const r = uf.find(at.get(id)!);
    merged.set(r, [...(merged.get(r) ?? []), id]);
  }
  return [...merged.values()]
    .map((g) => g.sort((a, b) => a - b))
    .sort((a, b) => b.length - a.length || a[0]! - b[0]!)
    .map((g) => g.flatMap((id) => {
      const img = getImage(catalog.db, id);
      return img ? [{ id, path: img.path }] : [];
    }))
    .filter((g) => g.length > 1);
}
