import Database from 'better-sqlite3';
import { chooseK } from '../../analysis/auto-k';
import type { KnnGraph } from '../../analysis/exact-knn';
import { defaultMinClusterSize, densityClusters } from '../../analysis/density';
import { ivfKnnGraph } from '../../analysis/ivf-knn';
import { sphericalKMeans } from '../../analysis/kmeans';
import { project } from '../../analysis/projection';
import { dotAt, normalizeAt, type Vectors } from '../../analysis/vectors';
import { embeddingEntries, getEmbeddings, loadAllEmbeddings } from '../../db/repos/embeddings';
import { ensureIndex, type VectorSource } from '../../vector-index/ensure';
import { buildKnnGraph } from '../../vector-index/knn-graph';
import { loadIndex, saveIndex } from '../../vector-index/persist';
import { nativeRowDots } from '../backends/native-blas';

// Clustering and the map's layout take seconds to a minute of pure computation at 100k photos: they
// run in workers/analysis-worker.ts, off the main thread, so Electron's UI and the web server stay
// responsive. The task reads the embeddings itself (its own read-only connection) instead of
// receiving 150 MB in a message.

export type AnalysisTask =
  | { kind: 'kmeans'; dbFile: string; modelId: number; dim: number; k: number | 'auto'; restarts: number; seed: number; fitSample: number }
  /**
   * the map's layout from the given kNN graph of `ids`; without one (native BLAS loaded) the worker
   * builds a k-neighbour graph itself by blocked brute force (analysis/ivf-knn)
   */
  | { kind: 'layout'; dbFile: string; modelId: number; dim: number; graph: KnnGraph; ids: number[]; seed: number }
  | { kind: 'layout'; dbFile: string; modelId: number; dim: number; graph: null; k: number; seed: number }
  /**
   * density clusters (analysis/density) from the given kNN graph of `ids`, or (graph null, native BLAS
   * loaded) from one the worker builds; minClusterSize null = the default for the number of photos
   */
  | { kind: 'density'; dbFile: string; modelId: number; dim: number; graph: KnnGraph; ids: number[]; k: number; minClusterSize: number | null }
  | { kind: 'density'; dbFile: string; modelId: number; dim: number; graph: null; k: number; minClusterSize: number | null }
  /** rows [start, end) of the kNN graph of `ids`, from the index file the main thread just saved */
  | { kind: 'graph'; dbFile: string; modelId: number; dim: number; indexFile: string; ids: number[]; k: number; start: number; end: number }
  /** the whole kNN graph by blocked brute force (native BLAS only; see blasKnnGraph), for duplicates and outliers */
  | { kind: 'knn'; dbFile: string; modelId: number; dim: number; k: number }
  /**
   * the search index brought in step with the table (vector-index ensureIndex on `indexFile`) and
   * saved to `saveTo`: building one takes seconds to minutes (services/search WORKER_SYNC_FROM)
   */
  | { kind: 'index'; dbFile: string; modelId: number; dim: number; indexFile: string; saveTo: string };

export type AnalysisEvent = { phase: string; done: number; total: number };

export interface KMeansTaskResult {
  ids: number[];
  k: number;
  assignments: Int32Array;
  similarities: Float32Array;
  centroids: Float32Array;
  inertia: number;
  scores: { k: number; silhouette: number }[] | null;
  /** how auto-k chose k (null when k was given) */
  criterion: string | null;
}

export interface DensityTaskResult {
  ids: number[];
  k: number;
  /** cluster of each photo, -1 = noise (stored as no membership) */
  assignments: Int32Array;
  /** similarity to its cluster's centroid (0 for noise) */
  similarities: Float32Array;
  centroids: Float32Array;
  minClusterSize: number;
  stability: number[];
}

export type AnalysisResult =
  | { kind: 'kmeans'; result: KMeansTaskResult }
  | { kind: 'density'; result: DensityTaskResult }
  | { kind: 'layout'; ids: number[]; xy: Float32Array }
  | { kind: 'graph'; start: number; end: number; indices: Int32Array; similarities: Float32Array }
  | { kind: 'knn'; ids: number[]; graph: KnnGraph }
  | { kind: 'index'; size: number; reason: string | null };

function load(dbFile: string, modelId: number, dim: number): { ids: number[]; data: Float32Array } {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    return loadAllEmbeddings(db, modelId, dim);
  } finally {
    db.close();
  }
}

/** Unit mean direction of each cluster and each member's similarity to it; label -1 is skipped. */
function centroidsOf(v: Vectors, labels: Int32Array, k: number): { centroids: Float32Array; similarities: Float32Array } {
  const { n, dim } = v;
  const centroids = new Float32Array(k * dim);
  for (let i = 0; i < n; i++) {
    const c = labels[i]!;
    if (c < 0) continue;
    for (let j = 0; j < dim; j++) centroids[c * dim + j]! += v.data[i * dim + j]!;
  }
  for (let c = 0; c < k; c++) normalizeAt(centroids, c * dim, dim);
  const similarities = new Float32Array(n);
  for (let i = 0; i < n; i++) if (labels[i]! >= 0) similarities[i] = dotAt(v.data, i * dim, centroids, labels[i]! * dim, dim);
  return { centroids, similarities };
}

/**
 * The kNN graph (k neighbours, a photo never its own) by blocked brute force inside a coarse
 * partition (analysis/ivf-knn), with the native BLAS product: the graph of the map, the density
 * clusters, duplicates and outliers whenever the addon loads (else they take the index's, services/search
 * knnGraph). `check` is the cancel checkpoint, called between cells.
 */
export function blasKnnGraph(v: Vectors, k: number, post: (e: AnalysisEvent) => void, check: () => void): KnnGraph {
  const dots = nativeRowDots();
  if (!dots) throw new Error('the neighbour graph needs the native BLAS addon here');
  return ivfKnnGraph(v, k, dots, { onProgress: (done, total) => post({ phase: 'neighbour graph', done, total }), between: check });
}

/** The index task: on its own read-only connection, with each row's version (analysis-tasks' other kinds read vectors only). */
function indexTask(task: Extract<AnalysisTask, { kind: 'index' }>): AnalysisResult {
  const db = new Database(task.dbFile, { readonly: true, fileMustExist: true });
  try {
    const entries = embeddingEntries(db, task.modelId).map((e) => ({ id: e.imageId, version: e.version }));
    const source: VectorSource = {
      *vectors(ids) {
        for (const r of getEmbeddings(db, task.modelId, ids)) yield { id: r.imageId, vector: r.vector };
      },
    };
    const own = task.saveTo === task.indexFile;
    const r = ensureIndex({ file: task.indexFile, dim: task.dim, entries, source, save: own });
    if (!own) saveIndex(r.index, task.saveTo);
    return { kind: 'index', size: r.index.size, reason: r.rebuilt ? r.reason : null };
  } finally {
    db.close();
  }
}

export async function runAnalysisTask(task: AnalysisTask, post: (e: AnalysisEvent) => void, cancelled: () => boolean): Promise<AnalysisResult> {
  const check = (): void => {
    if (cancelled()) throw new Error('cancelled');
  };
  if (task.kind === 'index') return indexTask(task);
  const { ids, data } = load(task.dbFile, task.modelId, task.dim);
  const vectors: Vectors = { n: ids.length, dim: task.dim, data };
  if (task.kind === 'graph') {
    if (ids.length !== task.ids.length || ids.some((id, i) => id !== task.ids[i])) throw new Error('The embeddings changed while the neighbour graph was computed; try again.');
    const loaded = loadIndex(task.indexFile, task.dim);
    if (!loaded.index) throw new Error(`cannot read the index for the neighbour graph: ${loaded.reason}`);
    const g = await buildKnnGraph(loaded.index, ids, task.k, { vectors: data, range: [task.start, task.end], checkpoint: async () => check() });
    const { start, end, k } = task;
    return { kind: 'graph', start, end, indices: g.indices.slice(start * k, end * k), similarities: g.similarities.slice(start * k, end * k) };
  }
  if (task.kind === 'kmeans') {
    let k: number;
    let scores: { k: number; silhouette: number }[] | null = null;
    let criterion: string | null = null;
    if (task.k === 'auto') {
      const auto = chooseK(vectors, { seed: task.seed, onProgress: (done, total) => (check(), post({ phase: 'choosing k', done, total })) });
      k = auto.k;
      scores = auto.scores;
      criterion = auto.criterion;
    } else k = Math.min(task.k, ids.length);
    const km = sphericalKMeans(vectors, k, {
      restarts: task.restarts,
      seed: task.seed,
      sampleSize: task.fitSample,
      dots: nativeRowDots() ?? undefined,
      onProgress: (done, total) => (check(), post({ phase: `k-means (k = ${k})`, done, total })),
    });
    return { kind: 'kmeans', result: { ids, k, assignments: km.assignments, similarities: km.similarities, centroids: km.centroids.data, inertia: km.inertia, scores, criterion } };
  }
  if (task.kind === 'knn') return { kind: 'knn', ids, graph: blasKnnGraph(vectors, task.k, post, check) };
  let graph: KnnGraph;
  if (task.graph === null) graph = blasKnnGraph(vectors, task.k, post, check);
  else {
    if (ids.length !== task.ids.length || ids.some((id, i) => id !== task.ids[i])) throw new Error('The embeddings changed while the graph was computed; run it again.');
    graph = task.graph;
  }
  if (task.kind === 'density') {
    post({ phase: 'density clusters', done: 0, total: 1 });
    const minClusterSize = task.minClusterSize ?? defaultMinClusterSize(ids.length);
    const d = densityClusters(graph, { minClusterSize });
    const { centroids, similarities } = centroidsOf(vectors, d.labels, d.k);
    return { kind: 'density', result: { ids, k: d.k, assignments: d.labels, similarities, centroids, minClusterSize, stability: d.stability } };
  }
  const xy = project(vectors, graph, { seed: task.seed, onProgress: (done, total) => (check(), post({ phase: 'layout', done, total })) });
  return { kind: 'layout', ids, xy };
}
