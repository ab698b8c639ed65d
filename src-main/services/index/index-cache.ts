import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KnnGraph } from '../../analysis/exact-knn';
import { embeddingEntries, embeddingsFingerprint } from '../../db/repos/embeddings';
import { deleteIndexFiles, ensureIndex, saveIndex, syncIndex, type VectorIndex } from '../../vector-index';
import type { Catalog } from '../catalog/catalog';
import type { ModelRef } from '../models/resolve-model';
import { noProgress, runAnalysis } from '../threads/analysis-runner';
import { vectorSource } from './vector-source';

// The HNSW index of each model and the neighbour graphs made from the embeddings, per catalog. The
// index is a cache of the embeddings table: before every use it is checked against a cheap
// fingerprint of the table (a change counter kept by triggers: db/repos/embeddings
// embeddingsFingerprint) and synced when the table moved on: new and re-embedded photos added (each
// row's version is drawn anew on every write), removed or 'gone' photos marked deleted. So whoever
// writes embeddings (the embed job, an import marking photos gone, another process) needs no hook here.

interface IndexState {
  index: VectorIndex;
  fingerprint: string;
  saveTimer: NodeJS.Timeout | null;
}

/** A neighbour graph as neighbour-graph.ts made it, valid while the embeddings' fingerprint is `fingerprint`. */
export interface CachedGraph {
  fingerprint: string;
  route: 'blas' | 'index';
  ids: number[];
  graph: KnnGraph;
}

/** Everything kept for one open catalog. */
interface CatalogIndexes {
  indexes: Map<number, IndexState>;
  /** getIndex calls in progress in a worker, per model: later calls wait for it */
  building: Map<number, Promise<void>>;
  /** neighbour graphs by `${model}:${k}` */
  graphs: Map<string, CachedGraph>;
}

const perCatalog = new WeakMap<Catalog, CatalogIndexes>();

function stateOf(catalog: Catalog): CatalogIndexes {
  let s = perCatalog.get(catalog);
  if (!s) {
    perCatalog.set(catalog, (s = { indexes: new Map(), building: new Map(), graphs: new Map() }));
    catalog.beforeClose(() => flushIndexes(catalog));
  }
  return s;
}

/** The catalog's neighbour graphs (neighbour-graph.ts reads and fills it), forgotten with its indexes. */
export function graphCache(catalog: Catalog): Map<string, CachedGraph> {
  return stateOf(catalog).graphs;
}

export function indexFile(catalog: Catalog, modelId: number): string {
  return join(catalog.paths.index, `${modelId}.hnsw`);
}

/**
 * From this many vectors to add or replace (a first use counts them all), the index is brought up to
 * date in a worker thread, which saves it, and this thread only loads the result: building an HNSW
 * graph takes about 1.2 s for 20 000 vectors of 64 values here, 3.8 s at 384 values, and a minute and
 * more at 100 000, which the main thread (the UI, the web server) must never spend.
 */
export const WORKER_SYNC_FROM = 2_000;

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
  const state = stateOf(catalog);
  for (;;) {
    const inFlight = state.building.get(model.id);
    if (!inFlight) break;
    await inFlight.catch(() => undefined);
  }
  const fingerprint = embeddingsFingerprint(catalog.db, model.id);
  const cached = state.indexes.get(model.id);
  if (cached && cached.fingerprint === fingerprint) return cached.index;
  const entries = embeddingEntries(catalog.db, model.id);
  if (cached && pendingChanges(cached.index, entries) < WORKER_SYNC_FROM) {
    const counts = syncIndex(cached.index, entries, vectorSource(catalog.db, model.id));
    if (counts.added + counts.updated + counts.removed > 0) scheduleSave(catalog, model.id, cached);
    cached.fingerprint = fingerprint;
    return cached.index;
  }
  if (!cached && entries.length < WORKER_SYNC_FROM) {
    const r = ensureIndex({ file: indexFile(catalog, model.id), dim: model.dim, entries, source: vectorSource(catalog.db, model.id), save: !catalog.readOnly });
    if (r.rebuilt && r.reason) onRebuild?.(r.reason);
    state.indexes.set(model.id, { index: r.index, fingerprint, saveTimer: null });
    return r.index;
  }
  const work = indexInWorker(catalog, model, state.indexes, onRebuild);
  state.building.set(model.id, work);
  try {
    await work;
  } finally {
    state.building.delete(model.id);
  }
  return state.indexes.get(model.id)!.index;
}

async function indexInWorker(catalog: Catalog, model: ModelRef, indexes: Map<number, IndexState>, onRebuild?: (reason: string) => void): Promise<void> {
  const file = indexFile(catalog, model.id);
  // a read-only catalog must not write the writer's file: the worker hands its index over in a temporary one
  const saveTo = catalog.readOnly ? join(tmpdir(), `dino-index-${randomUUID()}.hnsw`) : file;
  const previous = indexes.get(model.id);
  if (previous?.saveTimer) clearTimeout(previous.saveTimer); // the worker saves a newer one
  try {
    const built = await runAnalysis('index', { dbFile: catalog.paths.db, modelId: model.id, dim: model.dim, indexFile: file, saveTo }, noProgress, true);
    if (built.reason) onRebuild?.(built.reason);
    // what was written meanwhile is synced here (a few vectors), without writing the file again now
    const fingerprint = embeddingsFingerprint(catalog.db, model.id);
    const entries = embeddingEntries(catalog.db, model.id);
    const r = ensureIndex({ file: saveTo, dim: model.dim, entries, source: vectorSource(catalog.db, model.id), save: false });
    const state: IndexState = { index: r.index, fingerprint, saveTimer: null };
    indexes.set(model.id, state);
    if (r.rebuilt || r.sync.added + r.sync.updated + r.sync.removed > 0) scheduleSave(catalog, model.id, state);
  } finally {
    if (saveTo !== file) deleteIndexFiles(saveTo);
  }
}

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
  for (const [modelId, state] of perCatalog.get(catalog)?.indexes ?? []) {
    if (!state.saveTimer) continue;
    clearTimeout(state.saveTimer);
    state.saveTimer = null;
    saveIndex(state.index, indexFile(catalog, modelId));
  }
}

/** Forgets a catalog's indexes and neighbour graphs in memory (tests; the catalog closing). */
export function dropIndexes(catalog: Catalog): void {
  for (const state of perCatalog.get(catalog)?.indexes.values() ?? []) if (state.saveTimer) clearTimeout(state.saveTimer);
  perCatalog.delete(catalog);
}
