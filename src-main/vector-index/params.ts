/**
 * HNSW parameters, chosen by measurement (`npx tsx src-main/vector-index/tune.ts 100000 16,24 100`:
 * 2-core VM shared with other jobs, one thread, hnswlib-node 3, 100k synthetic 384-d L2-normalised
 * vectors = 1000 random centres + Gaussian noise of relative norm 1 (neighbourhoods overlap as in real
 * photo embeddings), 500 stored vectors as queries, recall@10 against exact brute force):
 *
 *   M   efC  ef   recall@10  p50 ms  p99 ms  build s
 *   16  100  16   0.977      0.24    0.54     96
 *   16  100  32   0.998      0.32    0.79     96
 *   16  100  48   0.998      0.37    0.61     96
 *   16  100  64   0.998      0.43    0.77     96
 *   16  100  96   1.000      0.55    0.94     96
 *   16  100  128  1.000      0.84    1.41     96
 *   24  100  32   0.998      0.43    0.67    205
 *   24  100  64   1.000      0.60    1.32    205
 *   (brute force: 74 ms per query)
 *
 * M = 24 buys nothing at equal latency and builds 2x slower. ef = 32 already meets the 0.98 target;
 * we take ef = 64 for margin (real embeddings may be harder than the synthetic set; the issue asks
 * 0.99 on the photo sets) at p99 well under the 2 ms goal. efConstruction 100: build time is linear
 * in it and recall at ef >= 32 was already at the ceiling.
 */
export const HNSW_DEFAULTS = {
  M: 16,
  efConstruction: 100,
  /** query-time beam (raised to k when k is larger) */
  efSearch: 64,
} as const;
