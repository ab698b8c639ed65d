import type { VectorIndex } from './vector-index';

/** Same shape as analysis' KnnGraph: row i's k neighbours (positions in `ids`) at [i*k, (i+1)*k), -1 = none. */
export interface IndexKnnGraph {
  n: number;
  k: number;
  indices: Int32Array;
  similarities: Float32Array;
}

/**
 * The k-nearest-neighbour graph of the points `ids` (all in the index) by one query per point; a
 * point is never its own neighbour. Neighbours outside `ids` are skipped. Uses a smaller beam than
 * interactive search (ef = max(k + 8, 32)): the graph feeds layouts and groupings, where a missed
 * 10th neighbour costs nothing visible. Yields to the event loop every 500 queries.
 */
export async function buildKnnGraph(
  index: VectorIndex,
  ids: readonly number[],
  k: number,
  opts: {
    ef?: number;
    /** the vectors of `ids`, row i = ids[i]: hnswlib's getPoint costs ~80 us per call (a JS array built value by value) */
    vectors?: Float32Array;
    /** compute only rows [start, end) (the other rows stay -1): to split the work across threads */
    range?: [number, number];
    onProgress?(done: number, total: number): void;
    checkpoint?(): Promise<void>;
  } = {},
): Promise<IndexKnnGraph> {
  if (opts.vectors && opts.vectors.length !== ids.length * index.dim) throw new Error('vectors do not match ids');
  const pos = new Map<number, number>();
  ids.forEach((id, i) => pos.set(id, i));
  const n = ids.length;
  const graph: IndexKnnGraph = { n, k, indices: new Int32Array(n * k).fill(-1), similarities: new Float32Array(n * k) };
  const saved = index.hnsw.getEf();
  index.hnsw.setEf(opts.ef ?? Math.max(k + 8, 32));
  const want = Math.min(k + 1, index.size);
  const [start, end] = opts.range ?? [0, n];
  try {
    for (let i = start; i < end; i++) {
      if ((i - start) % 500 === 0) {
        opts.onProgress?.(i - start, end - start);
        await opts.checkpoint?.();
        await new Promise((r) => setImmediate(r));
      }
      const q = opts.vectors ? Array.from(opts.vectors.subarray(i * index.dim, (i + 1) * index.dim)) : index.hnsw.getPoint(ids[i]!);
      const r = index.hnsw.searchKnn(q, want);
      let c = 0;
      for (let j = 0; j < r.neighbors.length && c < k; j++) {
        const p = pos.get(r.neighbors[j]!);
        if (p === undefined || p === i) continue;
        graph.indices[i * k + c] = p;
        graph.similarities[i * k + c] = 1 - r.distances[j]!;
        c++;
      }
    }
  } finally {
    index.hnsw.setEf(saved);
  }
  opts.onProgress?.(end - start, end - start);
  return graph;
}
