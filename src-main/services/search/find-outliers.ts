import { outlierScores, topOutliers } from '../../analysis/outliers';
import { getImage } from '../../db/repos/images';
import type { Catalog } from '../catalog/catalog';
import { GRAPH_K, neighbourGraph } from '../index/neighbour-graph';
import { resolveModel } from '../models/resolve-model';

/**
 * The n most outlying photos: score = 1 - mean cosine similarity to the k nearest neighbours
 * (higher = more unlike the rest of the collection), highest first.
 */
export async function findOutliers(catalog: Catalog, opts: { n?: number; k?: number; modelId?: number } = {}): Promise<{ id: number; path: string; score: number }[]> {
  const model = resolveModel(catalog, opts.modelId, 'embeddings');
  const { ids, graph } = await neighbourGraph(catalog, model, opts.k ?? GRAPH_K);
  const scores = outlierScores(graph);
  return topOutliers(scores, opts.n ?? 50).flatMap((p) => {
    const img = getImage(catalog.db, ids[p]!);
    return img ? [{ id: ids[p]!, path: img.path, score: scores[p]! }] : [];
  });
}
