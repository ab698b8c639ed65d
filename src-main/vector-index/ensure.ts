import { loadIndex, saveIndex } from './persist';
import { HNSW_DEFAULTS } from './params';
import { VectorIndex, type IndexOptions } from './vector-index';

/** What the database says the index must hold: every live image id and its vector's version. */
export interface IndexEntry {
  id: number;
  /** changes whenever the stored vector changes (the service uses the embeddings row id) */
  version: number;
}

export interface VectorSource {
  /** the vectors of these ids (any order; ids without a vector are skipped) */
  vectors(ids: readonly number[]): Iterable<{ id: number; vector: Float32Array }>;
}

export interface SyncCounts {
  added: number;
  updated: number;
  removed: number;
}

/** Brings a loaded index in step with `entries`: adds new ids, re-adds changed ones, deletes the rest. */
export function syncIndex(index: VectorIndex, entries: readonly IndexEntry[], source: VectorSource): SyncCounts {
  const want = new Map<number, number>();
  for (const e of entries) want.set(e.id, e.version);
  const stale: number[] = [];
  for (const id of index.versions.keys()) if (!want.has(id)) stale.push(id);
  for (const id of stale) index.remove(id);
  const toAdd: number[] = [];
  let updated = 0;
  for (const [id, version] of want) {
    const have = index.versions.get(id);
    if (have === version) continue;
    if (have !== undefined) updated++;
    toAdd.push(id);
  }
  // Ask in chunks so a full rebuild never holds every vector in memory twice.
  const CHUNK = 2048;
  for (let i = 0; i < toAdd.length; i += CHUNK) {
    const ids = toAdd.slice(i, i + CHUNK);
    for (const { id, vector } of source.vectors(ids)) index.add(id, vector, want.get(id)!);
  }
  return { added: toAdd.length - updated, updated, removed: stale.length };
}

export interface EnsureResult {
  index: VectorIndex;
  /** true when built from scratch */
  rebuilt: boolean;
  /** why it was rebuilt (missing, damaged, ...), or null */
  reason: string | null;
  sync: SyncCounts;
  /** true when the file on disk was (re)written */
  saved: boolean;
}

/**
 * Opens the index at `file` and makes it agree with `entries` (the database is the truth): a missing,
 * damaged or incompatible file is rebuilt from scratch; a readable one is synced incrementally
 * (new and changed vectors added, removed ones marked deleted). A graph with more deleted than live
 * points is rebuilt too, so deletes do not pile up forever. Saves when anything changed.
 */
export function ensureIndex(opts: { file: string; dim: number; entries: readonly IndexEntry[]; source: VectorSource; options?: IndexOptions }): EnsureResult {
  const { file, dim, entries, source } = opts;
  const efSearch = opts.options?.efSearch ?? HNSW_DEFAULTS.efSearch;
  const loaded = loadIndex(file, dim, efSearch);
  let index: VectorIndex;
  let reason: string | null = null;
  if (loaded.index) {
    index = loaded.index;
    const wantM = opts.options?.M ?? HNSW_DEFAULTS.M;
    if (index.M !== wantM) reason = `index built with M=${index.M}, want ${wantM}`;
  } else {
    reason = loaded.reason;
    index = VectorIndex.create(dim, { ...opts.options, capacity: Math.max(1024, Math.ceil(entries.length * 1.1)) });
  }
  if (reason && loaded.index) index = VectorIndex.create(dim, { ...opts.options, capacity: Math.max(1024, Math.ceil(entries.length * 1.1)) });
  let sync = syncIndex(index, entries, source);
  if (!reason && index.deletedIds.size > Math.max(1000, index.size)) {
    reason = `${index.deletedIds.size} deleted points outnumber ${index.size} live ones`;
    index = VectorIndex.create(dim, { ...opts.options, capacity: Math.max(1024, Math.ceil(entries.length * 1.1)) });
    sync = syncIndex(index, entries, source);
  }
  const changed = reason !== null || sync.added + sync.updated + sync.removed > 0;
  if (changed) saveIndex(index, file);
  return { index, rebuilt: reason !== null, reason, sync, saved: changed };
}
