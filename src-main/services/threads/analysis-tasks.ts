import Database from 'better-sqlite3';
import { chooseK } from '../../analysis/auto-k';
import type { KnnGraph } from '../../analysis/exact-knn';
import { defaultMinClusterSize, densityClusters } from '../../analysis/density';
import { ivfKnnGraph } from '../../analysis/ivf-knn';
import { sphericalKMeans } from '../../analysis/kmeans';
import { project } from '../../analysis/projection';
import { dotAt, normalizeAt, type Vectors } from '../../analysis/vectors';
import { embeddingEntries, loadAllEmbeddings } from '../../db/repos/embeddings';
import { ensureIndex } from '../../vector-index/ensure';
import { buildKnnGraph } from '../../vector-index/knn-graph';
import { loadIndex, saveIndex } from '../../vector-index/persist';
import { nativeRowDots } from '../backends/native-blas';
import { vectorSource } from '../index/vector-source';

// Clustering and the map's layout take seconds to a minute of pure computation at 100k photos: they
// run in analysis-worker.ts, off the main thread, so Electron's UI and the web server stay
// responsive. The task reads the embeddings itself (its own read-only connection) instead of
// receiving 150 MB in a message.

/** Where a task reads the model's embeddings: its own read-only connection to the catalog's database. */
export interface EmbeddingsSource {
  dbFile: string;
  modelId: number;
  dim: number;
}

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

/** A kNN graph of the model's photos, rows in the order of `ids` (ascending image id). */
export interface GraphOf {
  graph: KnnGraph;
  ids: number[];
}

/**
 * Every analysis task by kind, with what it takes and what it gives: the one table the runner, the
 * worker and the callers share (as src-shared/api.ts types the channels), so no caller checks a kind.
 */
export interface AnalysisTasks {
  /** spherical k-means, k given or chosen by auto-k */
  kmeans: { args: EmbeddingsSource & { k: number | 'auto'; restarts: number; seed: number; fitSample: number }; result: KMeansTaskResult };
  /** density clusters (analysis/density) on the neighbour graph; minClusterSize null = the default for the number of photos */
  density: { args: EmbeddingsSource & GraphOf & { k: number; minClusterSize: number | null }; result: DensityTaskResult };
  /** the map's layout from the neighbour graph */
  layout: { args: EmbeddingsSource & GraphOf & { seed: number }; result: { ids: number[]; xy: Float32Array } };
  /** rows [start, end) of the HNSW index's kNN graph of `ids`, from the index file the main thread just saved */
  graph: {
    args: EmbeddingsSource & { indexFile: string; ids: number[]; k: number; start: number; end: number };
    result: { start: number; end: number; indices: Int32Array; similarities: Float32Array };
  };
  /** the whole kNN graph by blocked brute force (native BLAS only; see blasKnnGraph) */
  knn: { args: EmbeddingsSource & { k: number }; result: GraphOf };
  /**
   * the search index brought in step with the table (vector-index ensureIndex on `indexFile`) and
   * saved to `saveTo`: building one takes seconds to minutes (index/index-cache WORKER_SYNC_FROM)
   */
  index: { args: EmbeddingsSource & { indexFile: string; saveTo: string }; result: { size: number; reason: string | null } };
}

export type AnalysisKind = keyof AnalysisTasks;
export type AnalysisArgs<K extends AnalysisKind> = AnalysisTasks[K]['args'];
export type AnalysisResult<K extends AnalysisKind> = AnalysisTasks[K]['result'];
/** a task as it travels to the worker */
export type AnalysisTask<K extends AnalysisKind = AnalysisKind> = { [P in K]: { kind: P; args: AnalysisArgs<P> } }[K];

export type AnalysisEvent = { phase: string; done: number; total: number };

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
 * partition (analysis/ivf-knn), with the native BLAS product: the neighbour graph of the map, density
 * clusters, duplicates and outliers whenever the addon loads (index/neighbour-graph.ts; without it the
 * graph comes from the index). `check` is the cancel checkpoint, called between cells.
 */
function blasKnnGraph(v: Vectors, k: number, post: (e: AnalysisEvent) => void, check: () => void): KnnGraph {
  const dots = nativeRowDots();
  if (!dots) throw new Error('the neighbour graph needs the native BLAS addon here');
  return ivfKnnGraph(v, k, dots, { onProgress: (done, total) => post({ phase: 'neighbour graph', done, total }), between: check });
}

/** What a task gets besides its arguments: progress, and a cancel check to call between its phases. */
interface TaskContext {
  post(e: AnalysisEvent): void;
  check(): void;
}

function vectorsOf(a: EmbeddingsSource): { ids: number[]; vectors: Vectors } {
  const { ids, data } = load(a.dbFile, a.modelId, a.dim);
  return { ids, vectors: { n: ids.length, dim: a.dim, data } };
}

/** The photos the graph was built for must still be the embedded ones, in the same order. */
function sameIds(ids: readonly number[], expected: readonly number[], changed: string): void {
  if (ids.length !== expected.length || ids.some((id, i) => id !== expected[i])) throw new Error(changed);
}
const CHANGED_DURING_GRAPH = 'The embeddings changed while the neighbour graph was computed; try again.';
const CHANGED_SINCE_GRAPH = 'The embeddings changed while the graph was computed; run it again.';

const TASKS: { [K in AnalysisKind]: (args: AnalysisArgs<K>, ctx: TaskContext) => Promise<AnalysisResult<K>> | AnalysisResult<K> } = {
  // on its own read-only connection, with each row's version (the other tasks read vectors only)
  index(a) {
    const db = new Database(a.dbFile, { readonly: true, fileMustExist: true });
    try {
      const entries = embeddingEntries(db, a.modelId);
      const source = vectorSource(db, a.modelId);
      const own = a.saveTo === a.indexFile;
      const r = ensureIndex({ file: a.indexFile, dim: a.dim, entries, source, save: own });
      if (!own) saveIndex(r.index, a.saveTo);
      return { size: r.index.size, reason: r.rebuilt ? r.reason : null };
    } finally {
      db.close();
    }
  },

  async graph(a, { check }) {
    const { ids, vectors } = vectorsOf(a);
    sameIds(ids, a.ids, CHANGED_DURING_GRAPH);
    const loaded = loadIndex(a.indexFile, a.dim);
    if (!loaded.index) throw new Error(`cannot read the index for the neighbour graph: ${loaded.reason}`);
    const g = await buildKnnGraph(loaded.index, ids, a.k, { vectors: vectors.data, range: [a.start, a.end], checkpoint: async () => check() });
    const { start, end, k } = a;
    return { start, end, indices: g.indices.slice(start * k, end * k), similarities: g.similarities.slice(start * k, end * k) };
  },

  knn(a, { post, check }) {
    const { ids, vectors } = vectorsOf(a);
    return { ids, graph: blasKnnGraph(vectors, a.k, post, check) };
  },

  kmeans(a, { post, check }) {
    const { ids, vectors } = vectorsOf(a);
    let k: number;
    let scores: { k: number; silhouette: number }[] | null = null;
    let criterion: string | null = null;
    if (a.k === 'auto') {
      const auto = chooseK(vectors, { seed: a.seed, onProgress: (done, total) => (check(), post({ phase: 'choosing k', done, total })) });
      k = auto.k;
      scores = auto.scores;
      criterion = auto.criterion;
    } else k = Math.min(a.k, ids.length);
    const km = sphericalKMeans(vectors, k, {
      restarts: a.restarts,
      seed: a.seed,
      sampleSize: a.fitSample,
      dots: nativeRowDots() ?? undefined,
      onProgress: (done, total) => (check(), post({ phase: `k-means (k = ${k})`, done, total })),
    });
    return { ids, k, assignments: km.assignments, similarities: km.similarities, centroids: km.centroids.data, inertia: km.inertia, scores, criterion };
  },

  density(a, { post }) {
    const { ids, vectors } = vectorsOf(a);
    sameIds(ids, a.ids, CHANGED_SINCE_GRAPH);
    post({ phase: 'density clusters', done: 0, total: 1 });
    const minClusterSize = a.minClusterSize ?? defaultMinClusterSize(ids.length);
    const d = densityClusters(a.graph, { minClusterSize });
    const { centroids, similarities } = centroidsOf(vectors, d.labels, d.k);
    return { ids, k: d.k, assignments: d.labels, similarities, centroids, minClusterSize, stability: d.stability };
  },

  layout(a, { post, check }) {
    const { ids, vectors } = vectorsOf(a);
    sameIds(ids, a.ids, CHANGED_SINCE_GRAPH);
    const xy = project(vectors, a.graph, { seed: a.seed, onProgress: (done, total) => (check(), post({ phase: 'layout', done, total })) });
    return { ids, xy };
  },
};

/** Runs one task on this thread (the analysis worker's body, or a caller that wants no worker). */
export async function runAnalysisTask<K extends AnalysisKind>(
  task: AnalysisTask<K>,
  post: (e: AnalysisEvent) => void,
  cancelled: () => boolean,
): Promise<AnalysisResult<K>> {
  const check = (): void => {
    if (cancelled()) throw new Error('cancelled');
  };
  const run = TASKS[task.kind] as (args: AnalysisArgs<K>, ctx: TaskContext) => Promise<AnalysisResult<K>> | AnalysisResult<K>;
  return run(task.args, { post, check });
}
