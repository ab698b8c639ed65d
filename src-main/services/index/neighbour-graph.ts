import type { KnnGraph } from '../../analysis/exact-knn';
import { countEmbeddings, embeddingsFingerprint, loadAllEmbeddings } from '../../db/repos/embeddings';
import { buildKnnGraph } from '../../vector-index/knn-graph';
import { nativeRowDots } from '../backends/native-blas';
import type { Catalog } from '../catalog/catalog';
import type { ModelRef } from '../models/resolve-model';
import { noProgress, runAnalysis, type Progress } from '../threads/analysis-runner';
import { flushIndexes, getIndex, graphCache, indexFile } from './index-cache';

// The k-nearest-neighbour graph of a model's photos, which the map, density clusters, duplicates and
// outliers all start from. It comes one of two ways, chosen here: with the native BLAS addon by
// blocked brute force in a coarse partition (threads/analysis-tasks.ts 'knn': seconds at 100k
// photos), else from the HNSW index, one query per photo (about a minute at 100k). Either way it is
// cached with the catalog's indexes until the embeddings change.

/** One neighbour count for the map, density clusters, duplicates and outliers, so one cached graph serves all. */
export const GRAPH_K = 10;

/** From this many photos on, the index's graph is computed by two threads (below, a worker costs more than it saves). */
const PARALLEL_GRAPH_FROM = 20_000;

/** From this many photos on, the BLAS graph is built in a worker (below it takes milliseconds here). */
const BLAS_WORKER_FROM = 5_000;

export interface NeighbourGraphOptions {
  /** where it comes from (tests compare the two): default 'blas' when the native addon loads, else 'index' */
  route?: 'blas' | 'index';
  /** blas: in the analysis worker; default from BLAS_WORKER_FROM photos */
  inWorker?: boolean;
  /** index: on two threads; default from PARALLEL_GRAPH_FROM photos */
  parallel?: boolean;
  /** the progress and cancel of the job that wants it */
  ctx?: Progress;
}

/**
 * The kNN graph of every embedded photo of the model (k neighbours, a photo never its own); rows
 * follow `ids` (ascending image id).
 */
export async function neighbourGraph(catalog: Catalog, model: ModelRef, k: number, opts: NeighbourGraphOptions = {}): Promise<{ ids: number[]; graph: KnnGraph }> {
  const route = opts.route ?? (nativeRowDots() ? 'blas' : 'index');
  const key = `${model.id}:${k}`;
  // taken before the graph: embeddings written meanwhile leave the entry stale, so the next call rebuilds it
  const fingerprint = embeddingsFingerprint(catalog.db, model.id);
  const cached = graphCache(catalog).get(key);
  if (cached && cached.fingerprint === fingerprint && cached.route === route) return cached;
  const ctx = opts.ctx ?? noProgress;
  const made =
    route === 'blas'
      ? await runAnalysis('knn', { dbFile: catalog.paths.db, modelId: model.id, dim: model.dim, k }, ctx, opts.inWorker ?? countEmbeddings(catalog.db, model.id) >= BLAS_WORKER_FROM)
      : await indexGraph(catalog, model, k, ctx, opts.parallel);
  const entry = { fingerprint, route, ...made };
  graphCache(catalog).set(key, entry);
  return entry;
}

/** The graph from the HNSW index: one query per photo, on this thread (yielding) and, when large, a worker. */
async function indexGraph(catalog: Catalog, model: ModelRef, k: number, ctx: Progress, parallel?: boolean): Promise<{ ids: number[]; graph: KnnGraph }> {
  const index = await getIndex(catalog, model);
  // the vectors from the table rather than from hnswlib (whose getPoint is slow); same ids, same order
  const { ids, data } = loadAllEmbeddings(catalog.db, model.id, model.dim);
  if (ids.length !== index.size || ids.some((id) => !index.has(id))) throw new Error('The embeddings changed while the neighbour graph was computed; try again.');
  const n = ids.length;
  const here = { vectors: data, onProgress: (done: number, total: number) => ctx.progress({ done, total }), checkpoint: () => ctx.checkpoint() };
  // the second thread reads the index file: only a writer's file is sure to match this index
  if (!((parallel ?? n >= PARALLEL_GRAPH_FROM) && n >= 2 && !catalog.readOnly)) return { ids, graph: await buildKnnGraph(index, ids, k, here) };
  // Two threads: a worker takes the second half from the index file (saved first, so it matches),
  // this thread the first half (yielding between queries).
  flushIndexes(catalog);
  const half = Math.floor(n / 2);
  const [mine, theirs] = await Promise.all([
    buildKnnGraph(index, ids, k, { ...here, range: [0, half] }),
    runAnalysis('graph', { dbFile: catalog.paths.db, modelId: model.id, dim: model.dim, indexFile: indexFile(catalog, model.id), ids, k, start: half, end: n }, ctx, true),
  ]);
  mine.indices.set(theirs.indices, half * k);
  mine.similarities.set(theirs.similarities, half * k);
  return { ids, graph: mine };
}
