import { countEmbeddings } from '../../db/repos/embeddings';
import { saveClustering, type ClusterRow, type MemberRow } from '../../db/repos/clusters';
import type { Catalog } from '../catalog/catalog';
import { GRAPH_K, neighbourGraph } from '../index/neighbour-graph';
import { resolveModel, type ModelRef } from '../models/resolve-model';
import { noProgress, runAnalysis, type Progress } from '../threads/analysis-runner';

// Clustering runs: a model's embeddings grouped in a worker (threads/analysis-tasks.ts), the result stored.

/** k-means fits its centroids on at most this many photos, then assigns all (see KMeansOptions). */
const FIT_SAMPLE = 10_000;

export interface ClusterRunOptions {
  /** 'kmeans' (default): every photo in one of k groups; 'density': dense groups only, the rest unassigned */
  method?: ClusterMethod;
  k?: number | 'auto';
  /** density: the smallest group that counts as a cluster (default sqrt(n), at least 10) */
  minClusterSize?: number;
  modelId?: number;
  restarts?: number;
  seed?: number;
  /** false: compute on this thread (tests); default: in a worker thread */
  inWorker?: boolean;
}

export type ClusterMethod = 'kmeans' | 'density';

export interface ClusterRunResult {
  clustering: number;
  model: number;
  k: number;
  clusters: { id: number; name: string; size: number; cohesion: number }[];
  method: ClusterMethod;
  /** photos left in no cluster (density only; 0 for k-means) */
  noise: number;
  /** how k was chosen (auto-k), else null */
  criterion: string | null;
  seconds: number;
}

/** What either method hands to storage: cluster per photo (-1 = none), similarity to its centroid. */
interface Fit {
  ids: number[];
  k: number;
  assignments: Int32Array;
  similarities: Float32Array;
  centroids: Float32Array;
  method: string;
  params: Record<string, unknown>;
  criterion: string | null;
}

async function fitKMeans(catalog: Catalog, model: ModelRef, opts: ClusterRunOptions, ctx: Progress): Promise<Fit> {
  const seed = opts.seed ?? 42;
  const restarts = opts.restarts ?? 3;
  const args = { dbFile: catalog.paths.db, modelId: model.id, dim: model.dim, k: opts.k ?? 'auto', restarts, seed, fitSample: FIT_SAMPLE };
  const km = await runAnalysis('kmeans', args, ctx, opts.inWorker ?? true);
  const params = { k: opts.k ?? 'auto', criterion: km.criterion, silhouette: km.scores, restarts, seed, fitSample: FIT_SAMPLE, inertia: km.inertia, photos: km.ids.length };
  return { ...km, method: 'spherical-kmeans', params, criterion: km.criterion };
}

async function fitDensity(catalog: Catalog, model: ModelRef, opts: ClusterRunOptions, ctx: Progress): Promise<Fit> {
  ctx.progress({ phase: 'neighbour graph' });
  const { ids, graph } = await neighbourGraph(catalog, model, GRAPH_K, { ctx, inWorker: opts.inWorker });
  const args = { dbFile: catalog.paths.db, modelId: model.id, dim: model.dim, graph, ids, k: GRAPH_K, minClusterSize: opts.minClusterSize ?? null };
  const d = await runAnalysis('density', args, ctx, opts.inWorker ?? true);
  const noise = d.assignments.reduce((s, c) => s + (c < 0 ? 1 : 0), 0);
  const params = { minClusterSize: d.minClusterSize, minSamples: GRAPH_K, graphK: GRAPH_K, stability: d.stability, noise, photos: d.ids.length };
  return { ...d, method: 'density', params, criterion: null };
}

/**
 * Clusters every embedded photo of the model. k-means: spherical k-means, k given or chosen by the
 * mean silhouette (analysis/auto-k). density: HDBSCAN-like clusters on the kNN graph
 * (analysis/density); photos in no dense group get no membership row ("noise"). Clusters are
 * numbered 1..k by size, largest first, named "Cluster N"; cohesion = mean similarity of members to
 * the centroid.
 */
export async function runClustering(catalog: Catalog, opts: ClusterRunOptions = {}, ctx: Progress = noProgress): Promise<ClusterRunResult> {
  const started = performance.now();
  const model = resolveModel(catalog, opts.modelId, 'embeddings');
  if (countEmbeddings(catalog.db, model.id) === 0) throw new Error(`Model ${model.id} has no embeddings yet: run embed first.`);
  const method = opts.method ?? 'kmeans';
  if (method !== 'kmeans' && method !== 'density') throw new Error(`method must be kmeans or density, got ${String(method)}`);
  if (opts.k !== undefined && opts.k !== 'auto' && (!Number.isInteger(opts.k) || opts.k < 1)) throw new Error(`k must be a positive integer or 'auto', got ${opts.k}`);
  if (opts.minClusterSize !== undefined && (!Number.isInteger(opts.minClusterSize) || opts.minClusterSize < 2)) throw new Error(`the minimum cluster size must be an integer of at least 2, got ${opts.minClusterSize}`);
  ctx.progress({ phase: 'loading embeddings' });
  const fit = method === 'density' ? await fitDensity(catalog, model, opts, ctx) : await fitKMeans(catalog, model, opts, ctx);
  const { ids, k } = fit;
  await ctx.checkpoint();
  // number clusters by size, largest first; drop empty ones
  const sizes = new Int32Array(k);
  const simSums = new Float64Array(k);
  for (let i = 0; i < ids.length; i++) {
    const c = fit.assignments[i]!;
    if (c < 0) continue;
    sizes[c]!++;
    simSums[c]! += fit.similarities[i]!;
  }
  const order = [...Array(k).keys()].filter((c) => sizes[c]! > 0).sort((a, b) => sizes[b]! - sizes[a]! || a - b);
  const number = new Map(order.map((c, i) => [c, i + 1]));
  const clusters: ClusterRow[] = order.map((c) => ({
    cluster: number.get(c)!,
    name: `Cluster ${number.get(c)!}`,
    size: sizes[c]!,
    cohesion: simSums[c]! / sizes[c]!,
    centroid: fit.centroids.slice(c * model.dim, (c + 1) * model.dim),
  }));
  const members: MemberRow[] = [];
  ids.forEach((imageId, i) => {
    const c = fit.assignments[i]!;
    if (c >= 0) members.push({ imageId, cluster: number.get(c)!, similarity: fit.similarities[i]! });
  });
  ctx.progress({ phase: 'saving' });
  const clustering = saveClustering(catalog.db, { modelId: model.id, k: clusters.length, method: fit.method, params: fit.params, clusters, members });
  return {
    clustering,
    model: model.id,
    k: clusters.length,
    clusters: clusters.map((c) => ({ id: c.cluster, name: c.name, size: c.size, cohesion: c.cohesion })),
    method,
    noise: ids.length - members.length,
    criterion: fit.criterion,
    seconds: (performance.now() - started) / 1000,
  };
}
