import Database from 'better-sqlite3';
import { chooseK } from '../analysis/auto-k';
import type { KnnGraph } from '../analysis/exact-knn';
import { sphericalKMeans } from '../analysis/kmeans';
import { project } from '../analysis/projection';
import { loadAllEmbeddings } from '../db/repos/embeddings';
import { buildKnnGraph } from '../vector-index/knn-graph';
import { loadIndex } from '../vector-index/persist';

// Clustering and the map's layout take seconds to a minute of pure computation at 100k photos: they
// run in workers/analysis-worker.ts, off the main thread, so Electron's UI and the web server stay
// responsive. The task reads the embeddings itself (its own read-only connection) instead of
// receiving 150 MB in a message.

export type AnalysisTask =
  | { kind: 'kmeans'; dbFile: string; modelId: number; dim: number; k: number | 'auto'; restarts: number; seed: number; fitSample: number }
  | { kind: 'layout'; dbFile: string; modelId: number; dim: number; graph: KnnGraph; ids: number[]; seed: number }
  /** rows [start, end) of the kNN graph of `ids`, from the index file the main thread just saved */
  | { kind: 'graph'; dbFile: string; modelId: number; dim: number; indexFile: string; ids: number[]; k: number; start: number; end: number };

export type AnalysisEvent = { phase: string; done: number; total: number };

export interface KMeansTaskResult {
  ids: number[];
  k: number;
  assignments: Int32Array;
  similarities: Float32Array;
  centroids: Float32Array;
  inertia: number;
  scores: { k: number; silhouette: number }[] | null;
}

export type AnalysisResult =
  | { kind: 'kmeans'; result: KMeansTaskResult }
  | { kind: 'layout'; ids: number[]; xy: Float32Array }
  | { kind: 'graph'; start: number; end: number; indices: Int32Array; similarities: Float32Array };

function load(dbFile: string, modelId: number, dim: number): { ids: number[]; data: Float32Array } {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    return loadAllEmbeddings(db, modelId, dim);
  } finally {
    db.close();
  }
}

export async function runAnalysisTask(task: AnalysisTask, post: (e: AnalysisEvent) => void, cancelled: () => boolean): Promise<AnalysisResult> {
  const check = (): void => {
    if (cancelled()) throw new Error('cancelled');
  };
  const { ids, data } = load(task.dbFile, task.modelId, task.dim);
  const vectors = { n: ids.length, dim: task.dim, data };
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
    if (task.k === 'auto') {
      const auto = chooseK(vectors, { seed: task.seed, onProgress: (done, total) => (check(), post({ phase: 'choosing k', done, total })) });
      k = auto.k;
      scores = auto.scores;
    } else k = Math.min(task.k, ids.length);
    const km = sphericalKMeans(vectors, k, {
      restarts: task.restarts,
      seed: task.seed,
      sampleSize: task.fitSample,
      onProgress: (done, total) => (check(), post({ phase: `k-means (k = ${k})`, done, total })),
    });
    return { kind: 'kmeans', result: { ids, k, assignments: km.assignments, similarities: km.similarities, centroids: km.centroids.data, inertia: km.inertia, scores } };
  }
  if (ids.length !== task.ids.length || ids.some((id, i) => id !== task.ids[i])) throw new Error('The embeddings changed while the map was computed; run it again.');
  const xy = project(vectors, task.graph, { seed: task.seed, onProgress: (done, total) => (check(), post({ phase: 'layout', done, total })) });
  return { kind: 'layout', ids, xy };
}
