import { sampleIndices } from '../analysis/random';
import { loadIndex, saveIndex } from './persist';
import { HNSW_DEFAULTS } from './params';
import { VectorIndex, type IndexOptions } from './vector-index';

/** What the database says the index must hold: every live image id and its vector's version. */
export interface IndexEntry {
  id: number;
  /** changes whenever the stored vector changes (the embeddings row's version, db/repos/embeddings.ts) */
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

/** stored vectors compared with the database when an index file is opened (all of them below this) */
export const VERIFY_SAMPLE = 64;

/**
 * Why a loaded and synced index cannot be trusted, or null: it must hold exactly the database's
 * photos, and a random sample of its vectors must equal theirs. Versions make a changed vector
 * visible; this catches what versions cannot, such as an index file written for another copy of
 * the catalog or a vector damaged in place.
 */
function disagreement(index: VectorIndex, entries: readonly IndexEntry[], source: VectorSource): string | null {
  if (index.size !== entries.length) return `it holds ${index.size} photos, the database ${entries.length}`;
  const sample = Array.from(sampleIndices(entries.length, VERIFY_SAMPLE, Math.random), (i) => entries[i]!.id);
  for (const { id, vector } of source.vectors(sample)) {
    const stored = index.vector(id);
    if (!stored) return `photo ${id} is missing`;
    for (let k = 0; k < vector.length; k++) {
      if (Math.abs(stored[k]! - vector[k]!) > 1e-6) return `the vector of photo ${id} differs`;
    }
  }
  return null;
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
 * (new and changed vectors added, removed ones marked deleted), then checked: its count against the
 * database's, and a sample of its vectors against theirs (a disagreement rebuilds it). A graph with
 * more deleted than live points is rebuilt too, so deletes do not pile up forever. Saves when
 * anything changed.
 */
export function ensureIndex(opts: {
  file: string;
  dim: number;
  entries: readonly IndexEntry[];
  source: VectorSource;
  options?: IndexOptions;
  /** false: build and sync in memory only, never write the file (a read-only catalog) */
  save?: boolean;
}): EnsureResult {
  const { file, dim, entries, source } = opts;
  const saveIndexFile = (index: VectorIndex): boolean => {
    if (opts.save === false) return false;
    saveIndex(index, file);
    return true;
  };
  const efSearch = opts.options?.efSearch ?? HNSW_DEFAULTS.efSearch;
  const loaded = loadIndex(file, dim, efSearch);
  let reason: string | null = loaded.index ? null : loaded.reason;
  const wantM = opts.options?.M ?? HNSW_DEFAULTS.M;
  if (loaded.index && loaded.index.M !== wantM) reason = `index built with M=${loaded.index.M}, want ${wantM}`;
  if (loaded.index && !reason) {
    const index = loaded.index;
    const sync = syncIndex(index, entries, source);
    if (index.deletedIds.size > Math.max(1000, index.size)) reason = `${index.deletedIds.size} deleted points outnumber ${index.size} live ones`;
    else {
      const why = disagreement(index, entries, source);
      if (why) reason = `index disagrees with the database: ${why}`;
    }
    if (!reason) {
      const saved = sync.added + sync.updated + sync.removed > 0 && saveIndexFile(index);
      return { index, rebuilt: false, reason: null, sync, saved };
    }
  }
  const index = VectorIndex.create(dim, { ...opts.options, capacity: Math.max(1024, Math.ceil(entries.length * 1.1)) });
  const sync = syncIndex(index, entries, source);
  return { index, rebuilt: true, reason, sync, saved: saveIndexFile(index) };
}
