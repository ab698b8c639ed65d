import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NeighbourDTO } from '../../src-shared/api';
import { exactDuplicateGroups, nearDuplicateGroups, UnionFind } from '../analysis/duplicates';
import type { KnnGraph } from '../analysis/exact-knn';
import { outlierScores, topOutliers } from '../analysis/outliers';
import { normalize } from '../analysis/vectors';
import { memberIds, listClusterings } from '../db/repos/clusters';
import {
  embeddingEntries,
  embeddingsFingerprint,
  getEmbedding,
  getEmbeddings,
  loadAllEmbeddings,
  countEmbeddings,
  modelsWithEmbeddings,
} from '../db/repos/embeddings';
import { getImage, sameContentImages } from '../db/repos/images';
import { getModel } from '../db/repos/models';
import { getSetting } from '../db/repos/settings';
import { buildKnnGraph, deleteIndexFiles, ensureIndex, saveIndex, syncIndex, type VectorIndex, type VectorSource } from '../vector-index';
import { nativeRowDots } from './backends/native-blas';
import { runTask } from './threads/analysis-runner';
import type { AnalysisTask } from './threads/analysis-tasks';
import type { Catalog } from './catalog/catalog';
import type { JobContext } from './jobs/job-runner';

// Similarity search, near-duplicates and outliers over one model's embeddings. The HNSW index is a
// cache of the embeddings table: before every use it is checked against a cheap fingerprint of the
// table (a change counter kept by triggers: db/repos/embeddings embeddingsFingerprint) and synced
// when the table moved on: new and re-embedded photos added (each row's version is drawn anew on
// every write), removed or 'gone' photos marked deleted. So whoever writes embeddings (the embed
// job, an import marking photos gone, another process) needs no hook here.

export interface ModelRef {
  id: number;
  dim: number;
  name: string;
}

/** The model to use: the one asked for, else setting 'activeModel', else the newest model with embeddings. */
export function resolveModel(catalog: Catalog, modelId?: number): ModelRef {
  if (modelId !== undefined) {
    const m = getModel(catalog.db, modelId);
    if (!m) throw new Error(`There is no model ${modelId} in this catalog.`);
    return { id: m.id, dim: m.dim, name: m.name };
  }
  const active = getSetting(catalog.db, 'activeModel');
  if (typeof active === 'number') {
    const m = getModel(catalog.db, active);
    if (m) return { id: m.id, dim: m.dim, name: m.name };
  }
  const newest = modelsWithEmbeddings(catalog.db)[0];
  if (!newest) throw new Error('No photo has been embedded yet: train or add a model, then run embed.');
  return { id: newest.id, dim: newest.dim, name: newest.name };
}

interface IndexState {
  index: VectorIndex;
  fingerprint: string;
  saveTimer: NodeJS.Timeout | null;
  graphs: Map<number, { fingerprint: string; ids: number[]; graph: KnnGraph }>;
}

const states = new WeakMap<Catalog, Map<number, IndexState>>();

export function indexFile(catalog: Catalog, modelId: number): string {
  return join(catalog.paths.index, `${modelId}.hnsw`);
}

function source(catalog: Catalog, modelId: number): VectorSource {
  return {
    *vectors(ids) {
      for (const r of getEmbeddings(catalog.db, modelId, ids)) yield { id: r.imageId, vector: r.vector };
    },
  };
}

/**
 * From this many vectors to add or replace (a first use counts them all), the index is brought up to
 * date in a worker thread, which saves it, and this thread only loads the result: building an HNSW
 * graph takes about 1.2 s for 20 000 vectors of 64 values here, 3.8 s at 384 values, and a minute and
 * more at 100 000, which the main thread (the UI, the web server) must never spend.
 */
export const WORKER_SYNC_FROM = 2_000;

/** getIndex calls in progress in a worker, per catalog and model: later calls wait for it */
const building = new WeakMap<Catalog, Map<number, Promise<void>>>();

function pendingChanges(index: VectorIndex, entries: readonly { id: number; version: number }[]): number {
  let n = 0;
  for (const e of entries) if (index.versions.get(e.id) !== e.version) n++;
  return n;
}

/**
 * The model's index, in step with the embeddings table: loaded (or rebuilt when missing, damaged or
 * incompatible) on first use, synced whenever the table's fingerprint changed since. Small syncs run
 * here; large ones and first uses of large indexes in a worker (WORKER_SYNC_FROM).
 */
export async function getIndex(catalog: Catalog, model: ModelRef, onRebuild?: (reason: string) => void): Promise<VectorIndex> {
  let perModel = states.get(catalog);
  if (!perModel) {
    states.set(catalog, (perModel = new Map()));
    catalog.beforeClose(() => flushIndexes(catalog));
  }
  for (;;) {
    const inFlight = building.get(catalog)?.get(model.id);
    if (!inFlight) break;
    await inFlight.catch(() => undefined);
  }
  const fingerprint = embeddingsFingerprint(catalog.db, model.id);
  const cached = perModel.get(model.id);
  if (cached && cached.fingerprint === fingerprint) return cached.index;
  const entries = embeddingEntries(catalog.db, model.id).map((e) => ({ id: e.imageId, version: e.version }));
  if (cached && pendingChanges(cached.index, entries) < WORKER_SYNC_FROM) {
    const counts = syncIndex(cached.index, entries, source(catalog, model.id));
    if (counts.added + counts.updated + counts.removed > 0) scheduleSave(catalog, model.id, cached);
    cached.fingerprint = fingerprint;
    cached.graphs.clear();
    return cached.index;
  }
  if (!cached && entries.length < WORKER_SYNC_FROM) {
    const r = ensureIndex({ file: indexFile(catalog, model.id), dim: model.dim, entries, source: source(catalog, model.id), save: !catalog.readOnly });
    if (r.rebuilt && r.reason) onRebuild?.(r.reason);
    perModel.set(model.id, { index: r.index, fingerprint, saveTimer: null, graphs: new Map() });
    return r.index;
  }
  let inProgress = building.get(catalog);
  if (!inProgress) building.set(catalog, (inProgress = new Map()));
  const work = indexInWorker(catalog, model, perModel, onRebuild);
  inProgress.set(model.id, work);
  try {
    await work;
  } finally {
    inProgress.delete(model.id);
  }
  return perModel.get(model.id)!.index;
}

async function indexInWorker(catalog: Catalog, model: ModelRef, perModel: Map<number, IndexState>, onRebuild?: (reason: string) => void): Promise<void> {
  const file = indexFile(catalog, model.id);
  // a read-only catalog must not write the writer's file: the worker hands its index over in a temporary one
  const saveTo = catalog.readOnly ? join(tmpdir(), `dino-index-${randomUUID()}.hnsw`) : file;
  const previous = perModel.get(model.id);
  if (previous?.saveTimer) clearTimeout(previous.saveTimer); // the worker saves a newer one
  try {
    const built = await runTask({ kind: 'index', dbFile: catalog.paths.db, modelId: model.id, dim: model.dim, indexFile: file, saveTo }, noProgress, true);
    if (built.kind !== 'index') throw new Error('unexpected analysis result');
    if (built.reason) onRebuild?.(built.reason);
    // what was written meanwhile is synced here (a few vectors), without writing the file again now
    const fingerprint = embeddingsFingerprint(catalog.db, model.id);
    const entries = embeddingEntries(catalog.db, model.id).map((e) => ({ id: e.imageId, version: e.version }));
    const r = ensureIndex({ file: saveTo, dim: model.dim, entries, source: source(catalog, model.id), save: false });
    const state: IndexState = { index: r.index, fingerprint, saveTimer: null, graphs: new Map() };
    perModel.set(model.id, state);
    if (r.rebuilt || r.sync.added + r.sync.updated + r.sync.removed > 0) scheduleSave(catalog, model.id, state);
  } finally {
    if (saveTo !== file) deleteIndexFiles(saveTo);
  }
}

const noProgress = { progress: () => undefined, checkpoint: async () => undefined };

/**
 * Writes a synced index to disk a little later, once: while the embed job adds photos batch by
 * batch, every search would otherwise rewrite a file of up to 150 MB. Losing an unsaved sync costs
 * nothing but a quick incremental sync at the next start (the saved ids say what is missing).
 */
const SAVE_DELAY_MS = 5_000;
function scheduleSave(catalog: Catalog, modelId: number, state: IndexState): void {
  // a read-only catalog's index lives in memory: the writer owns the files
  if (state.saveTimer || catalog.readOnly) return;
  state.saveTimer = setTimeout(() => {
    state.saveTimer = null;
    try {
      saveIndex(state.index, indexFile(catalog, modelId));
    } catch {
      // the catalog may have been closed or moved; the next start syncs from the table again
    }
  }, SAVE_DELAY_MS);
  state.saveTimer.unref();
}

/** Saves every index with unsaved changes now (call before closing a catalog). */
export function flushIndexes(catalog: Catalog): void {
  for (const [modelId, state] of states.get(catalog) ?? []) {
    if (!state.saveTimer) continue;
    clearTimeout(state.saveTimer);
    state.saveTimer = null;
    saveIndex(state.index, indexFile(catalog, modelId));
  }
}

/** Checks (and if needed rebuilds) the index of every model with embeddings: call at start-up. */
export async function ensureIndexes(catalog: Catalog, log?: (m: string) => void): Promise<void> {
  for (const m of modelsWithEmbeddings(catalog.db)) {
    await getIndex(catalog, { id: m.id, dim: m.dim, name: m.name }, (reason) => log?.(`index of model ${m.id} rebuilt: ${reason}`));
  }
}

/** Forgets the in-memory index of a catalog (tests; the catalog closing). */
export function dropIndexes(catalog: Catalog): void {
  for (const state of states.get(catalog)?.values() ?? []) if (state.saveTimer) clearTimeout(state.saveTimer);
  states.delete(catalog);
  blasGraphs.delete(catalog);
}

function toNeighbours(catalog: Catalog, hits: readonly { id: number; similarity: number }[]): NeighbourDTO[] {
  const out: NeighbourDTO[] = [];
  for (const h of hits) {
    const img = getImage(catalog.db, h.id);
    if (img && img.status === 'ok') out.push({ id: h.id, path: img.path, similarity: Math.min(1, h.similarity) });
  }
  return out;
}

/** Exact ranking of a small candidate set (a cluster): cheaper and surer than a filtered graph walk. */
function rankExactly(catalog: Catalog, modelId: number, query: Float32Array, ids: readonly number[], k: number, exclude?: number) {
  const hits: { id: number; similarity: number }[] = [];
  for (const r of getEmbeddings(catalog.db, modelId, ids)) {
    if (r.imageId === exclude) continue;
    let s = 0;
    for (let j = 0; j < query.length; j++) s += query[j]! * r.vector[j]!;
    hits.push({ id: r.imageId, similarity: s });
  }
  return hits.sort((a, b) => b.similarity - a.similarity || a.id - b.id).slice(0, k);
}

/** Live members of one cluster of the newest clustering of the model (for "search in this cluster"). */
function clusterFilter(catalog: Catalog, modelId: number, cluster: number, clusteringId?: number): number[] {
  const cid = clusteringId ?? listClusterings(catalog.db, modelId)[0]?.id;
  if (cid === undefined) throw new Error('There is no clustering yet to filter by: run cluster first.');
  return memberIds(catalog.db, cid, cluster);
}

export interface SearchOptions {
  k?: number;
  modelId?: number;
  /** only photos of this cluster (of `clusteringId`, default the newest clustering of the model) */
  cluster?: number;
  clusteringId?: number;
}

/** The photos most similar to a catalog photo (itself excluded), best first, with cosine similarity. */
export async function searchSimilar(catalog: Catalog, id: number, opts: SearchOptions = {}): Promise<NeighbourDTO[]> {
  const model = resolveModel(catalog, opts.modelId);
  const k = opts.k ?? 20;
  const row = getEmbedding(catalog.db, model.id, id);
  if (!row) {
    const img = getImage(catalog.db, id);
    if (!img) throw new Error(`There is no photo ${id} in this catalog.`);
    throw new Error(`Photo ${id} has no embedding for model ${model.id} yet: run embed.`);
  }
  return searchVector(catalog, model, row.vector, k, opts, id);
}

/** The photos most similar to a vector (an outside photo's embedding), best first. */
export async function searchByVector(catalog: Catalog, vector: Float32Array, opts: SearchOptions = {}): Promise<NeighbourDTO[]> {
  const model = resolveModel(catalog, opts.modelId);
  if (vector.length !== model.dim) throw new Error(`The vector has ${vector.length} values; model ${model.id} embeds into ${model.dim}.`);
  return searchVector(catalog, model, normalize(vector), opts.k ?? 20, opts);
}

async function searchVector(catalog: Catalog, model: ModelRef, query: Float32Array, k: number, opts: SearchOptions, exclude?: number): Promise<NeighbourDTO[]> {
  if (opts.cluster !== undefined) {
    const ids = clusterFilter(catalog, model.id, opts.cluster, opts.clusteringId);
    const index = await getIndex(catalog, model);
    if (ids.length <= 20_000) return toNeighbours(catalog, rankExactly(catalog, model.id, query, ids.filter((i) => index.has(i)), k, exclude));
    const allowed = new Set(ids);
    return toNeighbours(catalog, index.search(query, k + 1, (i) => allowed.has(i) && i !== exclude).slice(0, k));
  }
  const index = await getIndex(catalog, model);
  const hits = index.search(query, exclude === undefined ? k : k + 1).filter((h) => h.id !== exclude);
  return toNeighbours(catalog, hits.slice(0, k));
}

/** From this many photos on, the graph is computed by two threads (below, a worker costs more than it saves). */
const PARALLEL_GRAPH_FROM = 20_000;

/** One neighbour count for the map, duplicates and outliers, so one cached graph serves all three. */
export const GRAPH_K = 10;

/**
 * The k-nearest-neighbour graph of every embedded photo of the model, from the HNSW index (one query
 * per photo; a photo is never its own neighbour). Rows follow `ids` (ascending image id). Cached
 * until the embeddings change.
 */
export async function knnGraph(
  catalog: Catalog,
  model: ModelRef,
  k: number,
  opts: { onProgress?(done: number, total: number): void; checkpoint?(): Promise<void>; /** two threads; default from PARALLEL_GRAPH_FROM photos */ parallel?: boolean; job?: Partial<JobContext> } = {},
): Promise<{ ids: number[]; graph: KnnGraph }> {
  const index = await getIndex(catalog, model);
  const state = states.get(catalog)!.get(model.id)!;
  const cached = state.graphs.get(k);
  if (cached && cached.fingerprint === state.fingerprint) return cached;
  // the vectors from the table rather than from hnswlib (whose getPoint is slow); same ids, same order
  const { ids, data } = loadAllEmbeddings(catalog.db, model.id, model.dim);
  if (ids.length !== index.size || ids.some((id) => !index.has(id))) throw new Error('The embeddings changed while the neighbour graph was computed; try again.');
  const n = ids.length;
  let graph: KnnGraph;
  // the second thread reads the index file: only a writer's file is sure to match this index
  if ((opts.parallel ?? n >= PARALLEL_GRAPH_FROM) && n >= 2 && !catalog.readOnly) {
    // Two threads: a worker takes the second half from the index file (saved first, so it matches),
    // this thread the first half (yielding between queries).
    flushIndexes(catalog);
    const half = Math.floor(n / 2);
    const task: AnalysisTask = { kind: 'graph', dbFile: catalog.paths.db, modelId: model.id, dim: model.dim, indexFile: indexFile(catalog, model.id), ids, k, start: half, end: n };
    const [mine, theirs] = await Promise.all([
      buildKnnGraph(index, ids, k, { ...opts, vectors: data, range: [0, half] }),
      runTask(task, { progress: () => undefined, checkpoint: opts.checkpoint ?? (async () => undefined), ...opts.job }, true),
    ]);
    if (theirs.kind !== 'graph') throw new Error('unexpected analysis result');
    mine.indices.set(theirs.indices, half * k);
    mine.similarities.set(theirs.similarities, half * k);
    graph = mine;
  } else graph = await buildKnnGraph(index, ids, k, { ...opts, vectors: data });
  const result = { fingerprint: state.fingerprint, ids, graph };
  state.graphs.set(k, result);
  return result;
}

/** From this many photos on, the BLAS graph is built in a worker (below it takes milliseconds here). */
const BLAS_WORKER_FROM = 5_000;

/** neighbourGraph's graphs by blocked brute force, per catalog, by `${model}:${k}` */
const blasGraphs = new WeakMap<Catalog, Map<string, { fingerprint: string; ids: number[]; graph: KnnGraph }>>();

/**
 * The kNN graph for duplicates and outliers: with the native BLAS addon the one the map and density
 * clusters use (blocked brute force in a coarse partition, analysis-tasks blasKnnGraph: seconds at
 * 100k photos), else the index's (knnGraph: one HNSW query per photo). Rows follow `ids` (ascending
 * image id). Cached until the embeddings change.
 */
export async function neighbourGraph(catalog: Catalog, model: ModelRef, k: number, opts: { /** default from BLAS_WORKER_FROM photos */ inWorker?: boolean } = {}): Promise<{ ids: number[]; graph: KnnGraph }> {
  if (!nativeRowDots()) return knnGraph(catalog, model, k);
  let perCatalog = blasGraphs.get(catalog);
  if (!perCatalog) blasGraphs.set(catalog, (perCatalog = new Map()));
  const key = `${model.id}:${k}`;
  // taken before the graph: embeddings written meanwhile leave the entry stale, so the next call rebuilds
  const fingerprint = embeddingsFingerprint(catalog.db, model.id);
  const cached = perCatalog.get(key);
  if (cached && cached.fingerprint === fingerprint) return cached;
  const inWorker = opts.inWorker ?? countEmbeddings(catalog.db, model.id) >= BLAS_WORKER_FROM;
  const out = await runTask({ kind: 'knn', dbFile: catalog.paths.db, modelId: model.id, dim: model.dim, k }, { progress: () => undefined, checkpoint: async () => undefined }, inWorker);
  if (out.kind !== 'knn') throw new Error('unexpected analysis result');
  const result = { fingerprint, ids: out.ids, graph: out.graph };
  perCatalog.set(key, result);
  return result;
}

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
    model = resolveModel(catalog, opts.modelId);
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

/**
 * The n most outlying photos: score = 1 - mean cosine similarity to the k nearest neighbours
 * (higher = more unlike the rest of the collection), highest first.
 */
export async function findOutliers(catalog: Catalog, opts: { n?: number; k?: number; modelId?: number } = {}): Promise<{ id: number; path: string; score: number }[]> {
  const model = resolveModel(catalog, opts.modelId);
  const { ids, graph } = await neighbourGraph(catalog, model, opts.k ?? GRAPH_K);
  const scores = outlierScores(graph);
  return topOutliers(scores, opts.n ?? 50).flatMap((p) => {
    const img = getImage(catalog.db, ids[p]!);
    return img ? [{ id: ids[p]!, path: img.path, score: scores[p]! }] : [];
  });
}
