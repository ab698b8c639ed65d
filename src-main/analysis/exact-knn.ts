import { dotAt, type Vectors } from './vectors';

/** A k-nearest-neighbour graph: row i's neighbours at [i * k, (i + 1) * k), best first. -1 = none. */
export interface KnnGraph {
  n: number;
  k: number;
  indices: Int32Array;
  /** cosine similarities (vectors are L2-normalised) */
  similarities: Float32Array;
}

export interface Hit {
  index: number;
  similarity: number;
}

/**
 * Exact top-k by inner product over every row: the reference the HNSW index is measured against,
 * and the bench's baseline. A bounded insertion list is faster than a heap for k <= ~50.
 */
export function exactTopK(v: Vectors, query: Float32Array, k: number, exclude = -1): Hit[] {
  const kk = Math.min(k, v.n);
  const sims = new Float64Array(kk).fill(-Infinity);
  const idx = new Int32Array(kk).fill(-1);
  for (let i = 0; i < v.n; i++) {
    if (i === exclude) continue;
    const s = dotAt(query, 0, v.data, i * v.dim, v.dim);
    if (s <= sims[kk - 1]!) continue;
    let p = kk - 1;
    while (p > 0 && sims[p - 1]! < s) {
      sims[p] = sims[p - 1]!;
      idx[p] = idx[p - 1]!;
      p--;
    }
    sims[p] = s;
    idx[p] = i;
  }
  const out: Hit[] = [];
  for (let j = 0; j < kk; j++) if (idx[j]! >= 0) out.push({ index: idx[j]!, similarity: sims[j]! });
  return out;
}

/** Exact kNN graph (a point is never its own neighbour). O(n^2 dim): tests and baselines only. */
export function exactKnnGraph(v: Vectors, k: number): KnnGraph {
  const g: KnnGraph = { n: v.n, k, indices: new Int32Array(v.n * k).fill(-1), similarities: new Float32Array(v.n * k) };
  for (let i = 0; i < v.n; i++) {
    const hits = exactTopK(v, v.data.subarray(i * v.dim, (i + 1) * v.dim), k, i);
    hits.forEach((h, j) => {
      g.indices[i * k + j] = h.index;
      g.similarities[i * k + j] = h.similarity;
    });
  }
  return g;
}
