import type { ClusteringDTO, ImageDTO, MapPointDTO, Page } from '../../src-shared/api';
import { normalizeAt } from '../analysis/vectors';
import {
  clusterMembers,
  clusterOfImages,
  getClustering,
  getCluster,
  getProjection,
  listClusterings,
  listClusters,
  memberIds,
  mergeClusters,
  renameCluster,
  representatives,
  saveClustering,
  saveProjection,
  type ClusterRow,
  type MemberRow,
} from '../db/repos/clusters';
import { countEmbeddings, getEmbeddings } from '../db/repos/embeddings';
import { getImage, toImageDTO } from '../db/repos/images';
import { nativeRowDots } from './backends/native-blas';
import { runTask, type Progress } from './threads/analysis-runner';
import type { AnalysisTask, DensityTaskResult, KMeansTaskResult } from './threads/analysis-tasks';
import type { Catalog } from './catalog/catalog';
import { GRAPH_K, knnGraph, resolveModel, type ModelRef } from './search';

// Clustering runs and the 2-D map: load a model's embeddings, run the analysis, store the result.

/** How many photos closest to a centroid represent a cluster on its card. */
export const REPRESENTATIVES = 6;
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

const noProgress: Progress = { progress: () => undefined, checkpoint: async () => undefined };

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
  const task: AnalysisTask = { kind: 'kmeans', dbFile: catalog.paths.db, modelId: model.id, dim: model.dim, k: opts.k ?? 'auto', restarts, seed, fitSample: FIT_SAMPLE };
  const out = await runTask(task, ctx, opts.inWorker ?? true);
  if (out.kind !== 'kmeans') throw new Error('unexpected analysis result');
  const km: KMeansTaskResult = out.result;
  const params = { k: opts.k ?? 'auto', criterion: km.criterion, silhouette: km.scores, restarts, seed, fitSample: FIT_SAMPLE, inertia: km.inertia, photos: km.ids.length };
  return { ...km, method: 'spherical-kmeans', params, criterion: km.criterion };
}

async function fitDensity(catalog: Catalog, model: ModelRef, opts: ClusterRunOptions, ctx: Progress): Promise<Fit> {
  const base = { dbFile: catalog.paths.db, modelId: model.id, dim: model.dim, k: GRAPH_K, minClusterSize: opts.minClusterSize ?? null };
  let task: AnalysisTask;
  if (nativeRowDots()) task = { kind: 'density', ...base, graph: null };
  else {
    ctx.progress({ phase: 'neighbour graph' });
    const { ids, graph } = await knnGraph(catalog, model, GRAPH_K, { onProgress: (done, total) => ctx.progress({ done, total }), checkpoint: () => ctx.checkpoint(), job: ctx });
    task = { kind: 'density', ...base, graph, ids };
  }
  const out = await runTask(task, ctx, opts.inWorker ?? true);
  if (out.kind !== 'density') throw new Error('unexpected analysis result');
  const d: DensityTaskResult = out.result;
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
  const model = resolveModel(catalog, opts.modelId);
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

export function startClusterJob(catalog: Catalog, opts: ClusterRunOptions = {}): { id: string; promise: Promise<ClusterRunResult> } {
  return catalog.jobs.start('cluster', (ctx) => runClustering(catalog, opts, ctx), { pausable: false });
}

/** Clustering runs with their clusters and representatives, newest first. */
export function listClusteringDTOs(catalog: Catalog, modelId?: number): ClusteringDTO[] {
  return listClusterings(catalog.db, modelId).map((c) => ({
    id: c.id,
    modelId: c.modelId,
    k: c.k,
    method: c.method,
    criterion: typeof c.params.criterion === 'string' ? c.params.criterion : null,
    noise: typeof c.params.noise === 'number' ? c.params.noise : 0,
    minClusterSize: typeof c.params.minClusterSize === 'number' ? c.params.minClusterSize : null,
    createdAt: c.createdAt,
    clusters: listClusters(catalog.db, c.id).map((k) => ({
      id: k.cluster,
      name: k.name,
      size: k.size,
      cohesion: k.cohesion,
      representatives: representatives(catalog.db, c.id, k.cluster, REPRESENTATIVES),
    })),
  }));
}

export function clusterMembersPage(catalog: Catalog, clusteringId: number, cluster: number, offset: number, limit: number): Page<ImageDTO> {
  if (!getCluster(catalog.db, clusteringId, cluster)) throw new Error(`There is no cluster ${cluster} in clustering ${clusteringId}.`);
  const { items, total } = clusterMembers(catalog.db, clusteringId, cluster, offset, limit);
  return { items: items.flatMap((m) => { const r = getImage(catalog.db, m.imageId); return r ? [toImageDTO(r)] : []; }), total, offset };
}

export function renameClusterChecked(catalog: Catalog, clusteringId: number, cluster: number, name: string): boolean {
  const clean = name.trim();
  if (!clean) throw new Error('A cluster name cannot be empty.');
  if (clean.length > 200) throw new Error('A cluster name is at most 200 characters.');
  return renameCluster(catalog.db, clusteringId, cluster, clean);
}

/** Merges `from` into `into`: the merged centroid, cohesion and similarities are recomputed. */
export function mergeClustersRecomputed(catalog: Catalog, clusteringId: number, into: number, from: number): boolean {
  const c = getClustering(catalog.db, clusteringId);
  if (!c || into === from) return false;
  if (!getCluster(catalog.db, clusteringId, into) || !getCluster(catalog.db, clusteringId, from)) return false;
  const ids = [...memberIds(catalog.db, clusteringId, into), ...memberIds(catalog.db, clusteringId, from)];
  const rows = getEmbeddings(catalog.db, c.modelId, ids);
  const dim = rows[0]?.vector.length ?? 0;
  const centroid = new Float32Array(dim);
  for (const r of rows) for (let j = 0; j < dim; j++) centroid[j]! += r.vector[j]!;
  normalizeAt(centroid, 0, dim);
  const similarities = new Map<number, number>();
  let sum = 0;
  for (const r of rows) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += r.vector[j]! * centroid[j]!;
    similarities.set(r.imageId, s);
    sum += s;
  }
  return mergeClusters(catalog.db, clusteringId, into, from, { centroid, cohesion: rows.length ? sum / rows.length : 0, similarities });
}

export interface ProjectionResult {
  model: number;
  points: number;
  seconds: number;
}

/**
 * The 2-D map of every embedded photo: kNN graph (k = GRAPH_K; by blocked brute force with native
 * BLAS, else from the index), UMAP-style layout.
 */
export async function runProjection(catalog: Catalog, opts: { modelId?: number; seed?: number; inWorker?: boolean } = {}, ctx: Progress = noProgress): Promise<ProjectionResult> {
  const started = performance.now();
  const model = resolveModel(catalog, opts.modelId);
  const n = countEmbeddings(catalog.db, model.id);
  if (n === 0) throw new Error(`Model ${model.id} has no embeddings yet: run embed first.`);
  ctx.progress({ phase: 'neighbour graph', done: 0, total: n });
  let task: AnalysisTask;
  if (nativeRowDots()) {
    // with BLAS the worker builds the graph by blocked brute force, far faster than the index's queries
    task = { kind: 'layout', dbFile: catalog.paths.db, modelId: model.id, dim: model.dim, graph: null, k: GRAPH_K, seed: opts.seed ?? 11 };
  } else {
    // the graph comes from the index on this thread (it yields between queries); the layout runs in the worker
    const { ids, graph } = await knnGraph(catalog, model, GRAPH_K, {
      onProgress: (done, total) => ctx.progress({ done, total }),
      checkpoint: () => ctx.checkpoint(),
      job: ctx,
    });
    await ctx.checkpoint();
    task = { kind: 'layout', dbFile: catalog.paths.db, modelId: model.id, dim: model.dim, graph, ids, seed: opts.seed ?? 11 };
  }
  const out = await runTask(task, ctx, opts.inWorker ?? true);
  if (out.kind !== 'layout') throw new Error('unexpected analysis result');
  const { ids } = out;
  const y = out.xy;
  ctx.progress({ phase: 'saving' });
  saveProjection(catalog.db, model.id, ids.map((imageId, i) => ({ imageId, x: y[2 * i]!, y: y[2 * i + 1]! })));
  return { model: model.id, points: ids.length, seconds: (performance.now() - started) / 1000 };
}

export function startProjectionJob(catalog: Catalog, opts: { modelId?: number } = {}): { id: string; promise: Promise<ProjectionResult> } {
  return catalog.jobs.start('project', (ctx) => runProjection(catalog, opts, ctx), { pausable: false });
}

/** The stored map of the model, coloured by a clustering (default: the model's newest one). */
export function mapPoints(catalog: Catalog, opts: { clusteringId?: number; modelId?: number } = {}): MapPointDTO[] {
  let modelId = opts.modelId;
  if (opts.clusteringId !== undefined) {
    const c = getClustering(catalog.db, opts.clusteringId);
    if (!c) throw new Error(`There is no clustering ${opts.clusteringId}.`);
    modelId = c.modelId;
  }
  const model = resolveModel(catalog, modelId);
  const clusteringId = opts.clusteringId ?? listClusterings(catalog.db, model.id)[0]?.id;
  const clusterOf = clusteringId === undefined ? new Map<number, number>() : clusterOfImages(catalog.db, clusteringId);
  return getProjection(catalog.db, model.id).map((p) => ({ id: p.imageId, x: p.x, y: p.y, cluster: clusterOf.get(p.imageId) ?? null }));
}
