import type { KnnGraph } from './exact-knn';
import { sampleIndices, seededRng } from './random';
import type { RowDots } from './row-dots';
import { normalizeAt, type Vectors } from './vectors';

// An approximate kNN graph by blocked brute force inside a coarse partition (an "inverted file"):
// the points are split into cells of ~cellSize by a quick spherical k-means; every point is a query in
// its nearest cell and a candidate in its `spread` nearest cells, and each cell's queries are compared
// with all its candidates. Each cell is one dense product (queries x candidates), so with a BLAS sgemm
// the graph of 100k x 384 costs ~8 CPU seconds where one HNSW query per point cost 30-40 (the graph
// walk is bound by memory latency, the product by arithmetic), at higher recall on the bench's data
// (0.99 against 0.88 at the HNSW beam of 32). Exact (a plain brute force) when there is one cell.

export interface IvfOptions {
  /** points per cell, on average; default 1000 */
  cellSize?: number;
  /** nearest cells each point is a candidate in; default 4 (recall 0.84, 0.91, 0.95, 0.97 at 2..5 on 3000 overlapping 32-d points in 10 cells; cost grows with it) */
  spread?: number;
  /** cells searched per cell (its own included); default 1 */
  probes?: number;
  /** Lloyd iterations for the partition (on up to 100k points); default 10 */
  iterations?: number;
  seed?: number;
  onProgress?(done: number, total: number): void;
  /** called between cells; throw from it to stop (the job's cancel checkpoint) */
  between?(): void;
}

/** The partition is fitted on at most this many points. */
const FIT_POINTS = 100_000;
/** Floats in one block of similarities (members x candidates): 32 MB. */
const BLOCK = 8 << 20;

function gather(v: Vectors, rows: Int32Array, from: number, to: number, out: Float32Array): Float32Array {
  const { dim } = v;
  for (let r = from; r < to; r++) out.set(v.data.subarray(rows[r]! * dim, (rows[r]! + 1) * dim), (r - from) * dim);
  return out.subarray(0, (to - from) * dim);
}

/**
 * The `spread` nearest cells of every point (row i at [i * spread, (i + 1) * spread), nearest first):
 * spherical Lloyd from random points on up to 100k points, then one assignment pass over all. The
 * partition's quality is the graph's recall: fitted on 100 points per cell, the cells cut groups of
 * near neighbours apart often enough to drop recall to 0.90 (1000 true groups, 100 cells); on all the
 * points, 0.99. With the dense product each Lloyd pass over 100k points takes a fraction of a second.
 */
function partition(v: Vectors, cells: number, dots: RowDots, iterations: number, seed: number, spread: number): { cell: Int32Array; centroids: Float32Array } {
  const { n, dim } = v;
  const rng = seededRng(seed);
  const centroids = new Float32Array(cells * dim);
  gather(v, sampleIndices(n, cells, rng), 0, cells, centroids);
  // fitted on every point up to FIT_POINTS (read in place, no 150 MB copy), else on a sample
  const fitN = Math.min(n, FIT_POINTS);
  const xs = n <= FIT_POINTS ? v.data : gather(v, sampleIndices(n, fitN, rng), 0, fitN, new Float32Array(fitN * dim));
  const top = new Float32Array(spread);
  const chunk = Math.max(1, Math.floor(BLOCK / cells));
  const sims = new Float32Array(Math.min(n, chunk) * cells);
  /** rows [s, e) of x: their r nearest cells into out from row s on */
  const assignChunk = (x: Float32Array, s: number, e: number, out: Int32Array, r: number): void => {
    const m = e - s;
    const offset = s;
    dots(x.subarray(s * dim, e * dim), centroids, sims, m, cells, dim);
    for (let i = 0; i < m; i++) {
      const o = (offset + i) * r;
      top.fill(-Infinity);
      for (let c = 0; c < cells; c++) {
        const s = sims[i * cells + c]!;
        if (s <= top[r - 1]!) continue;
        let p = r - 1;
        while (p > 0 && top[p - 1]! < s) {
          top[p] = top[p - 1]!;
          out[o + p] = out[o + p - 1]!;
          p--;
        }
        top[p] = s;
        out[o + p] = c;
      }
    }
  };
  const assignRows = (x: Float32Array, rows: number, out: Int32Array, r: number): void => {
    for (let s = 0; s < rows; s += chunk) assignChunk(x, s, Math.min(rows, s + chunk), out, r);
  };
  const sampleCell = new Int32Array(fitN);
  for (let it = 0; it < iterations; it++) {
    assignRows(xs, fitN, sampleCell, 1);
    const sums = new Float64Array(cells * dim);
    const counts = new Int32Array(cells);
    for (let i = 0; i < fitN; i++) {
      const c = sampleCell[i]!;
      counts[c]!++;
      for (let j = 0; j < dim; j++) sums[c * dim + j]! += xs[i * dim + j]!;
    }
    for (let c = 0; c < cells; c++) {
      if (counts[c] === 0) continue; // keeps its old centroid: cells need not be balanced
      for (let j = 0; j < dim; j++) centroids[c * dim + j] = sums[c * dim + j]!;
      normalizeAt(centroids, c * dim, dim);
    }
  }
  const cell = new Int32Array(n * spread);
  assignRows(v.data, n, cell, spread);
  return { cell, centroids };
}

/** Inserts (s, j) into row o's descending top-k lists when it beats the k-th. */
function offer(g: KnnGraph, o: number, s: number, j: number): void {
  const { k, similarities: S, indices: I } = g;
  if (s <= S[o + k - 1]!) return;
  let p = k - 1;
  while (p > 0 && S[o + p - 1]! < s) {
    S[o + p] = S[o + p - 1]!;
    I[o + p] = I[o + p - 1]!;
    p--;
  }
  S[o + p] = s;
  I[o + p] = j;
}

/**
 * kNN graph (cosine; rows L2-normalised; a point is never its own neighbour) by brute force inside
 * the partition. Each point is a query in its nearest cell and a candidate in its `spread` nearest
 * cells: a group of near-identical points that the partition cuts in two still meets, which probing
 * neighbouring cells alone does not ensure (with 1000 true groups in 100 cells it kept recall at 0.67).
 * Recall on 100k synthetic 384-d points is reported by `bench cluster`.
 */
export function ivfKnnGraph(v: Vectors, k: number, dots: RowDots, opts: IvfOptions = {}): KnnGraph {
  const { n, dim } = v;
  const g: KnnGraph = { n, k, indices: new Int32Array(n * k).fill(-1), similarities: new Float32Array(n * k).fill(-Infinity) };
  const cells = Math.max(1, Math.min(Math.round(n / (opts.cellSize ?? 1000)), Math.floor(n / 2)));
  const spread = Math.min(cells, opts.spread ?? 4);
  const probes = Math.min(cells, opts.probes ?? 1);
  const { cell, centroids } = cells > 1 ? partition(v, cells, dots, opts.iterations ?? 10, opts.seed ?? 5, spread) : { cell: new Int32Array(n), centroids: new Float32Array(dim) };
  const lists = (width: number): { start: Int32Array; members: Int32Array } => {
    // points listed under each of their first `width` cells, cell by cell (counting sort)
    const start = new Int32Array(cells + 1);
    for (let i = 0; i < n; i++) for (let r = 0; r < width; r++) start[cell[i * spread + r]! + 1]!++;
    for (let c = 0; c < cells; c++) start[c + 1]! += start[c]!;
    const members = new Int32Array(start[cells]!);
    const fill = start.slice(0, cells);
    for (let i = 0; i < n; i++) for (let r = 0; r < width; r++) members[fill[cell[i * spread + r]!]!++] = i;
    return { start, members };
  };
  const queries = lists(1);
  const listed = lists(spread);
  const centroidSims = new Float32Array(cells * cells);
  if (probes > 1) dots(centroids, centroids, centroidSims, cells, cells, dim);
  const stamp = new Int32Array(n).fill(-1);
  let queryBuf = new Float32Array(0);
  let candBuf = new Float32Array(0);
  let simBuf = new Float32Array(0);
  for (let c = 0; c < cells; c++) {
    opts.between?.();
    const mine = queries.members.subarray(queries.start[c]!, queries.start[c + 1]!);
    const size = mine.length;
    if (size === 0) continue;
    // probed cells: its own, then the nearest centroids
    const near = probes > 1 ? [...Array(cells).keys()].sort((a, b) => (a === c ? -1 : b === c ? 1 : centroidSims[c * cells + b]! - centroidSims[c * cells + a]!)).slice(0, probes) : [c];
    let total = 0;
    for (const p of near) total += listed.start[p + 1]! - listed.start[p]!;
    const cand = new Int32Array(total);
    let m = 0;
    for (const p of near) {
      for (let q = listed.start[p]!; q < listed.start[p + 1]!; q++) {
        const j = listed.members[q]!;
        if (stamp[j] === c) continue;
        stamp[j] = c;
        cand[m++] = j;
      }
    }
    if (candBuf.length < m * dim) candBuf = new Float32Array(m * dim);
    const B = gather(v, cand, 0, m, candBuf);
    const rows = Math.max(1, Math.min(size, Math.floor(BLOCK / m)));
    if (queryBuf.length < rows * dim) queryBuf = new Float32Array(rows * dim);
    if (simBuf.length < rows * m) simBuf = new Float32Array(rows * m);
    for (let r0 = 0; r0 < size; r0 += rows) {
      const r1 = Math.min(size, r0 + rows);
      const Q = gather(v, mine, r0, r1, queryBuf);
      dots(Q, B, simBuf, r1 - r0, m, dim);
      for (let r = r0; r < r1; r++) {
        const i = mine[r]!;
        const o = i * k;
        const row = (r - r0) * m;
        for (let j = 0; j < m; j++) {
          const s = simBuf[row + j]!;
          if (s > g.similarities[o + k - 1]! && cand[j] !== i) offer(g, o, s, cand[j]!);
        }
      }
    }
    opts.onProgress?.(c + 1, cells);
  }
  for (let i = 0; i < n * k; i++) if (g.indices[i]! < 0) g.similarities[i] = 0;
  return g;
}
