import type { ClusteringDTO, ImageDTO, MapPointDTO, Page } from '../../src-shared/api';
import { chooseK } from '../analysis/auto-k';
import { sphericalKMeans } from '../analysis/kmeans';
import { project } from '../analysis/projection';
import { normalizeAt, type Vectors } from '../analysis/vectors';
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
import { getEmbeddings, loadAllEmbeddings } from '../db/repos/embeddings';
import { getImage, toImageDTO } from '../db/repos/images';
import type { Catalog } from './catalog';
import type { JobContext } from './jobs';
import { knnGraph, resolveModel } from './search';

// Clustering runs and the 2-D map: load a model's embeddings, run the analysis, store the result.

/** How many photos closest to a centroid represent a cluster on its card. */
export const REPRESENTATIVES = 6;
/** k-means fits its centroids on at most this many photos, then assigns all (see KMeansOptions). */
const FIT_SAMPLE = 20_000;

export interface ClusterRunOptions {
  k?: number | 'auto';
  modelId?: number;
  restarts?: number;
  seed?: number;
}

export interface ClusterRunResult {
  clustering: number;
  model: number;
  k: number;
  clusters: { id: number; name: string; size: number; cohesion: number }[];
  seconds: number;
}

type Progress = Pick<JobContext, 'progress' | 'checkpoint'>;
const noProgress: Progress = { progress: () => undefined, checkpoint: async () => undefined };

function loadVectors(catalog: Catalog, modelId: number, dim: number): { ids: number[]; vectors: Vectors } {
  const { ids, data } = loadAllEmbeddings(catalog.db, modelId, dim);
  return { ids, vectors: { n: ids.length, dim, data } };
}

/**
 * Spherical k-means over every embedded photo of the model, k given or chosen by the mean
 * silhouette (analysis/auto-k). Clusters are numbered 1..k by size, largest first, named
 * "Cluster N"; cohesion = mean similarity of members to the centroid.
 */
export async function runClustering(catalog: Catalog, opts: ClusterRunOptions = {}, ctx: Progress = noProgress): Promise<ClusterRunResult> {
  const started = performance.now();
  const model = resolveModel(catalog, opts.modelId);
  ctx.progress({ phase: 'loading embeddings' });
  const { ids, vectors } = loadVectors(catalog, model.id, model.dim);
  if (ids.length === 0) throw new Error(`Model ${model.id} has no embeddings yet: run embed first.`);
  await ctx.checkpoint();
  const seed = opts.seed ?? 42;
  let k: number;
  let autoScores: { k: number; silhouette: number }[] | undefined;
  if (opts.k === undefined || opts.k === 'auto') {
    ctx.progress({ phase: 'choosing k', done: 0, total: 0 });
    const auto = chooseK(vectors, { seed, onProgress: (done, total) => ctx.progress({ done, total }) });
    k = auto.k;
    autoScores = auto.scores;
  } else {
    if (!Number.isInteger(opts.k) || opts.k < 1) throw new Error(`k must be a positive integer or 'auto', got ${opts.k}`);
    k = Math.min(opts.k, ids.length);
  }
  await ctx.checkpoint();
  const restarts = opts.restarts ?? 4;
  ctx.progress({ phase: `k-means (k = ${k})`, done: 0, total: restarts + 1 });
  const km = sphericalKMeans(vectors, k, { restarts, seed, sampleSize: FIT_SAMPLE, onProgress: (done, total) => ctx.progress({ done, total }) });
  await ctx.checkpoint();
  // number clusters by size, largest first; drop empty ones
  const sizes = new Int32Array(k);
  const simSums = new Float64Array(k);
  for (let i = 0; i < ids.length; i++) {
    sizes[km.assignments[i]!]!++;
    simSums[km.assignments[i]!]! += km.similarities[i]!;
  }
  const order = [...Array(k).keys()].filter((c) => sizes[c]! > 0).sort((a, b) => sizes[b]! - sizes[a]! || a - b);
  const number = new Map(order.map((c, i) => [c, i + 1]));
  const clusters: ClusterRow[] = order.map((c) => ({
    cluster: number.get(c)!,
    name: `Cluster ${number.get(c)!}`,
    size: sizes[c]!,
    cohesion: simSums[c]! / sizes[c]!,
    centroid: km.centroids.data.slice(c * model.dim, (c + 1) * model.dim),
  }));
  const members: MemberRow[] = ids.map((imageId, i) => ({ imageId, cluster: number.get(km.assignments[i]!)!, similarity: km.similarities[i]! }));
  ctx.progress({ phase: 'saving' });
  const params = {
    k: opts.k ?? 'auto',
    criterion: autoScores ? 'mean silhouette (cosine), sample of 1500' : null,
    silhouette: autoScores ?? null,
    restarts,
    seed,
    fitSample: FIT_SAMPLE,
    inertia: km.inertia,
    photos: ids.length,
  };
  const clustering = saveClustering(catalog.db, { modelId: model.id, k: clusters.length, method: 'spherical-kmeans', params, clusters, members });
  return {
    clustering,
    model: model.id,
    k: clusters.length,
    clusters: clusters.map((c) => ({ id: c.cluster, name: c.name, size: c.size, cohesion: c.cohesion })),
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

/** The 2-D map of every embedded photo: kNN graph (k = 15) from the index, UMAP-style layout. */
export async function runProjection(catalog: Catalog, opts: { modelId?: number; seed?: number } = {}, ctx: Progress = noProgress): Promise<ProjectionResult> {
  const started = performance.now();
  const model = resolveModel(catalog, opts.modelId);
  ctx.progress({ phase: 'loading embeddings' });
  const { ids, vectors } = loadVectors(catalog, model.id, model.dim);
  if (ids.length === 0) throw new Error(`Model ${model.id} has no embeddings yet: run embed first.`);
  ctx.progress({ phase: 'neighbour graph', done: 0, total: ids.length });
  const { ids: graphIds, graph } = await knnGraph(catalog, model, 15, {
    onProgress: (done, total) => ctx.progress({ done, total }),
    checkpoint: () => ctx.checkpoint(),
  });
  // both lists are ascending image ids of the same live embeddings; guard against a change between the two reads
  if (graphIds.length !== ids.length || graphIds.some((id, i) => id !== ids[i])) throw new Error('The embeddings changed while the map was computed; run it again.');
  await ctx.checkpoint();
  ctx.progress({ phase: 'layout', done: 0, total: 1 });
  const y = project(vectors, graph, { seed: opts.seed ?? 11, onProgress: (done, total) => ctx.progress({ done, total }) });
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
