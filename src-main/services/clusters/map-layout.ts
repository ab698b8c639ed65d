import type { MapPointDTO } from '../../../src-shared/api';
import { clusterOfImages, getClustering, getProjection, listClusterings, saveProjection } from '../../db/repos/clusters';
import { countEmbeddings } from '../../db/repos/embeddings';
import type { Catalog } from '../catalog/catalog';
import { GRAPH_K, neighbourGraph } from '../index/neighbour-graph';
import { resolveModel } from '../models/resolve-model';
import { noProgress, runAnalysis, type Progress } from '../threads/analysis-runner';

// The 2-D map of a model's photos: the neighbour graph laid out in a worker (UMAP-style), stored per model.

export interface ProjectionResult {
  model: number;
  points: number;
  seconds: number;
}

/**
 * The 2-D map of every embedded photo: the neighbour graph (k = GRAPH_K; by blocked brute force with
 * native BLAS, else from the index), UMAP-style layout.
 */
export async function runProjection(catalog: Catalog, opts: { modelId?: number; seed?: number; inWorker?: boolean } = {}, ctx: Progress = noProgress): Promise<ProjectionResult> {
  const started = performance.now();
  const model = resolveModel(catalog, opts.modelId, 'embeddings');
  const n = countEmbeddings(catalog.db, model.id);
  if (n === 0) throw new Error(`Model ${model.id} has no embeddings yet: run embed first.`);
  ctx.progress({ phase: 'neighbour graph', done: 0, total: n });
  // the graph on this thread or in a worker (neighbour-graph.ts chooses); the layout in the worker
  const { ids: graphIds, graph } = await neighbourGraph(catalog, model, GRAPH_K, { ctx, inWorker: opts.inWorker });
  await ctx.checkpoint();
  const args = { dbFile: catalog.paths.db, modelId: model.id, dim: model.dim, graph, ids: graphIds, seed: opts.seed ?? 11 };
  const { ids, xy: y } = await runAnalysis('layout', args, ctx, opts.inWorker ?? true);
  ctx.progress({ phase: 'saving' });
  saveProjection(catalog.db, model.id, ids.map((imageId, i) => ({ imageId, x: y[2 * i]!, y: y[2 * i + 1]! })));
  return { model: model.id, points: ids.length, seconds: (performance.now() - started) / 1000 };
}

/** The stored map of the model, coloured by a clustering (default: the model's newest one). */
export function mapPoints(catalog: Catalog, opts: { clusteringId?: number; modelId?: number } = {}): MapPointDTO[] {
  let modelId = opts.modelId;
  if (opts.clusteringId !== undefined) {
    const c = getClustering(catalog.db, opts.clusteringId);
    if (!c) throw new Error(`There is no clustering ${opts.clusteringId}.`);
    modelId = c.modelId;
  }
  const model = resolveModel(catalog, modelId, 'embeddings');
  const clusteringId = opts.clusteringId ?? listClusterings(catalog.db, model.id)[0]?.id;
  const clusterOf = clusteringId === undefined ? new Map<number, number>() : clusterOfImages(catalog.db, clusteringId);
  return getProjection(catalog.db, model.id).map((p) => ({ id: p.imageId, x: p.x, y: p.y, cluster: clusterOf.get(p.imageId) ?? null }));
}
