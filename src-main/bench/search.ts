import { exactTopK } from '../analysis/exact-knn';
import { sampleIndices, seededRng } from '../analysis/random';
import { syntheticEmbeddings } from '../analysis/synthetic';
import { row } from '../analysis/vectors';
import { VectorIndex } from '../vector-index/vector-index';
import { HNSW_DEFAULTS } from '../vector-index/params';
import { ratio, type Benchmark, type BenchResult } from './types';

const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
};

/**
 * HNSW top-10 query latency against exact brute force over the same vectors, same run: synthetic
 * L2-normalised 384-d embeddings (n/100 centres + noise of relative norm 1), queries are stored
 * vectors, recall@10 against the brute-force answer.
 */
export const benchmark: Benchmark = {
  name: 'search',
  description: 'HNSW query latency (p50/p99) and recall@10 vs brute force, 10k and 100k synthetic 384-d vectors',
  async run({ log, quick }) {
    const results: BenchResult[] = [];
    for (const n of quick ? [10_000] : [10_000, 100_000]) {
      const dim = 384;
      const { vectors } = syntheticEmbeddings({ n, dim, clusters: n / 100, spread: 1.0, seed: 7 });
      const t0 = performance.now();
      const index = VectorIndex.create(dim, { capacity: n });
      for (let i = 0; i < n; i++) index.add(i, row(vectors, i));
      const buildS = (performance.now() - t0) / 1000;
      log(`  ${n}: index built in ${buildS.toFixed(1)} s (M ${HNSW_DEFAULTS.M}, efConstruction ${HNSW_DEFAULTS.efConstruction})`);
      const queries = [...sampleIndices(n, 1000, seededRng(3))];
      // warm up both paths
      for (const q of queries.slice(0, 20)) index.search(row(vectors, q), 10);
      const hnswMs: number[] = [];
      const found: number[][] = [];
      for (const q of queries) {
        const t = performance.now();
        const r = index.search(row(vectors, q), 10);
        hnswMs.push(performance.now() - t);
        found.push(r.map((h) => h.id));
      }
      // brute force is slow at 100k: time (and take the truth from) the first 200 queries
      const bruteN = n > 20_000 ? 200 : 1000;
      const bruteMs: number[] = [];
      let hit = 0;
      for (let j = 0; j < bruteN; j++) {
        const t = performance.now();
        const truth = exactTopK(vectors, row(vectors, queries[j]!), 10);
        bruteMs.push(performance.now() - t);
        const want = new Set(truth.map((h) => h.index));
        for (const id of found[j]!) if (want.has(id)) hit++;
      }
      const recall = hit / (bruteN * 10);
      const label = `${n / 1000}k`;
      for (const p of [0.5, 0.99]) {
        const v = percentile(hnswMs, p);
        const b = percentile(bruteMs, p);
        results.push({
          name: `search top-10 p${p * 100} @${label}`,
          value: v,
          unit: 'ms',
          baseline: 'brute force (exact, same vectors)',
          baselineValue: b,
          ratio: ratio(v, b),
          extra: { recallAt10: recall, ef: HNSW_DEFAULTS.efSearch, M: HNSW_DEFAULTS.M, buildSeconds: buildS, queries: queries.length, bruteQueries: bruteN },
        });
      }
    }
    return results;
  },
};
