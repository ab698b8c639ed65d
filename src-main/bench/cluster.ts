import { chooseK } from '../analysis/auto-k';
import { exactKnnGraph, exactTopK, type KnnGraph } from '../analysis/exact-knn';
import { lloyd, sphericalKMeans } from '../analysis/kmeans';
import { project } from '../analysis/projection';
import { sampleIndices, seededRng } from '../analysis/random';
import { syntheticEmbeddings } from '../analysis/synthetic';
import { row, subset } from '../analysis/vectors';
import { buildKnnGraph } from '../vector-index/knn-graph';
import { VectorIndex } from '../vector-index/vector-index';
import { ratio, type Benchmark, type BenchResult } from './types';

const seconds = (t0: number): number => (performance.now() - t0) / 1000;

/**
 * What `cluster --k auto` and `map:compute` do, on synthetic L2-normalised 384-d embeddings (50
 * centres, noise of relative norm 1), at 10k and 100k:
 *  - clustering = auto-k (silhouette on a 1500 sample) + spherical k-means (4 restarts fitted on a
 *    20k sample, 3 full refinement passes); baseline: plain Lloyd's k-means, one restart from random
 *    seeds, every point, same k, up to 50 iterations.
 *  - map = kNN graph (k = 15) from the HNSW index + UMAP-style layout; baseline for the graph: exact
 *    brute force (at 100k timed on 1000 rows and scaled by n / 1000: the full run takes hours).
 *    The index build is reported apart: search builds it anyway, and it is kept on disk.
 */
export const benchmark: Benchmark = {
  name: 'cluster',
  description: 'k-means (auto k) and 2-D map time at 10k and 100k synthetic 384-d embeddings',
  async run({ log, quick }) {
    const results: BenchResult[] = [];
    for (const n of quick ? [10_000] : [10_000, 100_000]) {
      const dim = 384;
      const label = `${n / 1000}k`;
      const { vectors } = syntheticEmbeddings({ n, dim, clusters: 50, spread: 1.0, seed: 5 });

      let t0 = performance.now();
      const auto = chooseK(vectors, { seed: 1 });
      const autoS = seconds(t0);
      t0 = performance.now();
      const km = sphericalKMeans(vectors, auto.k, { restarts: 4, seed: 1, sampleSize: 20_000 });
      const kmS = seconds(t0);
      log(`  ${label}: auto k = ${auto.k} in ${autoS.toFixed(1)} s, k-means ${kmS.toFixed(1)} s (inertia ${km.inertia.toFixed(0)})`);

      t0 = performance.now();
      const rng = seededRng(9);
      const seeds = subset(vectors, sampleIndices(n, auto.k, rng));
      const base = lloyd(vectors, seeds, 50, 1e-3);
      const baseS = seconds(t0);
      log(`  ${label}: baseline Lloyd ${baseS.toFixed(1)} s, ${base.iterations} iterations (inertia ${base.inertia.toFixed(0)})`);
      results.push({
        name: `k-means (auto k) @${label}`,
        value: autoS + kmS,
        unit: 's',
        baseline: 'plain Lloyd k-means, 1 random restart, all points, same k',
        baselineValue: baseS,
        ratio: ratio(autoS + kmS, baseS),
        extra: { k: auto.k, autoKSeconds: autoS, kmeansSeconds: kmS, inertia: km.inertia, baselineInertia: base.inertia },
      });

      t0 = performance.now();
      const index = VectorIndex.create(dim, { capacity: n });
      for (let i = 0; i < n; i++) index.add(i, row(vectors, i));
      const buildS = seconds(t0);
      const ids = [...Array(n).keys()];
      t0 = performance.now();
      const graph: KnnGraph = await buildKnnGraph(index, ids, 15);
      const graphS = seconds(t0);
      t0 = performance.now();
      const y = project(vectors, graph, { seed: 1 });
      const layoutS = seconds(t0);
      if (!y.every(Number.isFinite)) throw new Error('layout produced non-finite coordinates');
      let bruteS: number;
      if (n <= 10_000) {
        t0 = performance.now();
        exactKnnGraph(vectors, 15);
        bruteS = seconds(t0);
      } else {
        t0 = performance.now();
        for (let i = 0; i < 1000; i++) exactTopK(vectors, row(vectors, i), 16, i);
        bruteS = (seconds(t0) * n) / 1000;
      }
      log(`  ${label}: index build ${buildS.toFixed(1)} s, kNN graph ${graphS.toFixed(1)} s (brute force ${bruteS.toFixed(1)} s), layout ${layoutS.toFixed(1)} s`);
      results.push({
        name: `map (kNN graph + layout) @${label}`,
        value: graphS + layoutS,
        unit: 's',
        baseline: n <= 10_000 ? 'exact kNN graph + same layout' : 'exact kNN graph (1000 rows, scaled) + same layout',
        baselineValue: bruteS + layoutS,
        ratio: ratio(graphS + layoutS, bruteS + layoutS),
        extra: { graphSeconds: graphS, layoutSeconds: layoutS, bruteGraphSeconds: bruteS, indexBuildSeconds: buildS },
      });
      results.push({
        name: `clustering + map @${label}`,
        value: autoS + kmS + graphS + layoutS,
        unit: 's',
        baseline: 'Lloyd k-means + exact kNN graph + same layout',
        baselineValue: baseS + bruteS + layoutS,
        ratio: ratio(autoS + kmS + graphS + layoutS, baseS + bruteS + layoutS),
        extra: { goalSeconds: 60, indexBuildSeconds: buildS },
      });
    }
    return results;
  },
};
