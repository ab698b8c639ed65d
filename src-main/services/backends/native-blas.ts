import { loadNativeBlas } from '../../../native/blas/index.js';
import type { RowDots } from '../../analysis/row-dots';

// The optional OpenBLAS addon (native/blas, built for training) as the analysis' dense product. With
// it the neighbour graph of the map, density clusters, duplicates and outliers is a blocked brute force
// (threads/analysis-tasks.ts 'knn', analysis/ivf-knn: seconds at 100k); without it the graph comes from one
// HNSW query per photo (index/neighbour-graph.ts chooses: about a minute).

let cached: RowDots | null | undefined;

/** sgemm as RowDots, or null when the addon is not built, finds no OpenBLAS, or DINO_NATIVE=0. */
export function nativeRowDots(): RowDots | null {
  if (cached !== undefined) return cached;
  const blas = process.env.DINO_NATIVE === '0' ? null : loadNativeBlas();
  cached = blas ? (a, b, c, m, n, k) => blas.gemm(a, b, c, 1, m, n, k, false, true, 0, 0) : null;
  return cached;
}
