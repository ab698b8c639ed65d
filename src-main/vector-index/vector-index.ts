import hnswlib from 'hnswlib-node';

const { HierarchicalNSW } = hnswlib;
type HierarchicalNSW = InstanceType<typeof HierarchicalNSW>;
import { HNSW_DEFAULTS } from './params';

export interface IndexOptions {
  M?: number;
  efConstruction?: number;
  efSearch?: number;
  /** initial capacity; the index doubles when full */
  capacity?: number;
  seed?: number;
}

export interface Neighbour {
  id: number;
  /** cosine similarity (inner product of L2-normalised vectors) */
  similarity: number;
}

/**
 * An HNSW index over L2-normalised vectors with the inner-product space: distance = 1 - dot, so the
 * similarity we report is exactly 1 - distance. Labels are the catalog's image ids. hnswlib keeps
 * marked-deleted points in the graph (they still route searches) but never returns them.
 *
 * `versions` maps every live id to the caller's version of its vector (the embeddings row id), so a
 * sync can tell new, changed and removed vectors apart without reading vectors back.
 */
export class VectorIndex {
  readonly hnsw: HierarchicalNSW;
  readonly versions = new Map<number, number>();
  private efSearch: number;
  /** ids marked deleted and still in the graph (they take capacity; re-adding one revives its slot) */
  readonly deletedIds = new Set<number>();

  constructor(
    readonly dim: number,
    readonly M: number,
    readonly efConstruction: number,
    efSearch: number,
    hnsw?: HierarchicalNSW,
  ) {
    this.hnsw = hnsw ?? new HierarchicalNSW('ip', dim);
    this.efSearch = efSearch;
  }

  static create(dim: number, opts: IndexOptions = {}): VectorIndex {
    const M = opts.M ?? HNSW_DEFAULTS.M;
    const efC = opts.efConstruction ?? HNSW_DEFAULTS.efConstruction;
    const idx = new VectorIndex(dim, M, efC, opts.efSearch ?? HNSW_DEFAULTS.efSearch);
    idx.hnsw.initIndex({ maxElements: Math.max(16, opts.capacity ?? 1024), m: M, efConstruction: efC, randomSeed: opts.seed ?? 100 });
    idx.hnsw.setEf(idx.efSearch);
    return idx;
  }

  /** live (not deleted) points */
  get size(): number {
    return this.versions.size;
  }

  has(id: number): boolean {
    return this.versions.has(id);
  }

  setEf(ef: number): void {
    this.efSearch = ef;
    this.hnsw.setEf(ef);
  }

  /** Adds or replaces the vector of `id` (a deleted id comes back to life); grows the index when full. */
  add(id: number, vector: Float32Array, version = 0): void {
    if (vector.length !== this.dim) throw new Error(`vector of ${vector.length} values for an index of dim ${this.dim}`);
    if (!Number.isInteger(id) || id < 0) throw new Error(`index labels must be non-negative integers, got ${id}`);
    const inGraph = this.versions.has(id) || this.deletedIds.has(id);
    if (!inGraph && this.hnsw.getCurrentCount() >= this.hnsw.getMaxElements()) {
      this.hnsw.resizeIndex(Math.max(16, this.hnsw.getMaxElements() * 2));
    }
    // hnswlib-node takes number[] only. An existing label (live or deleted) is updated in place.
    this.hnsw.addPoint(Array.from(vector), id);
    this.deletedIds.delete(id);
    this.versions.set(id, version);
  }

  /** Hides `id` from every later search; a no-op when it is not in the index. */
  remove(id: number): boolean {
    if (!this.versions.has(id)) return false;
    this.hnsw.markDelete(id);
    this.versions.delete(id);
    this.deletedIds.add(id);
    return true;
  }

  /**
   * The k nearest live points, best first. `filter` (by id) runs inside hnswlib's graph walk: with a
   * very selective filter the walk may find fewer than k; callers that filter to a small set should
   * rank that set exactly instead.
   */
  search(query: Float32Array | readonly number[], k: number, filter?: (id: number) => boolean): Neighbour[] {
    if (this.versions.size === 0 || k <= 0) return [];
    const kk = Math.min(k, this.versions.size);
    if (this.efSearch < kk) this.hnsw.setEf(kk);
    const q = query instanceof Float32Array ? Array.from(query) : (query as number[]);
    const r = filter ? this.hnsw.searchKnn(q, kk, filter) : this.hnsw.searchKnn(q, kk);
    if (this.efSearch < kk) this.hnsw.setEf(this.efSearch);
    return r.neighbors.map((id, i) => ({ id, similarity: 1 - r.distances[i]! }));
  }

  /** the stored vector of a live id (hnswlib keeps a copy), or undefined */
  vector(id: number): Float32Array | undefined {
    if (!this.versions.has(id)) return undefined;
    return Float32Array.from(this.hnsw.getPoint(id));
  }
}
