import { chooseK } from '../analysis/auto-k';
import { exactKnnGraph, exactTopK, type KnnGraph } from '../analysis/exact-knn';
import { assign, sphericalKMeans } from '../analysis/kmeans';
import { project } from '../analysis/projection';
import { sampleIndices, seededRng } from '../analysis/random';
import { syntheticEmbeddings } from '../analysis/synthetic';
import { normalizeAt, row, subset, type Vectors } from '../analysis/vectors';
import { buildKnnGraph } from '../vector-index/knn-graph';
import { VectorIndex } from '../vector-index/vector-index';
import { ratio, type Benchmark, type BenchResult } from './types';

const seconds = (t0: number): number => (performance.now() - t0) / 1000;
/** CPU seconds of this process so far: on a shared machine wall time also counts other people's work */
const cpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** The textbook baseline: Lloyd's iterations, every point against every centroid, no pruning. */
function plainLloyd(v: Vectors, centroids: Vectors, maxIterations: number): { inertia: number; iterations: number } {
  const a = new Int32Array(v.n).fill(-1);
  const sims = new Float32Array(v.n);
  let inertia = 0;
  for (let it = 0; it < maxIterations; it++) {
    const before = a.slice();
    inertia = assign(v, centroids, a, sims);
    let changed = 0;
    for (let i = 0; i < v.n; i++) if (a[i] !== before[i]) changed++;
    if (changed <= 1e-3 * v.n) return { inertia, iterations: it + 1 };
    const sums = new Float64Array(centroids.n * v.dim);
    for (let i = 0; i < v.n; i++) for (let j = 0; j < v.dim; j++) sums[a[i]! * v.dim + j]! += v.data[i * v.dim + j]!;
    for (let c = 0; c < centroids.n; c++) {
      for (let j = 0; j < v.dim; j++) centroids.data[c * v.dim + j] = sums[c * v.dim + j]!;
      normalizeAt(centroids.data, c * v.dim, v.dim);
    }
  }
  return { inertia, iterations: maxIterations };
}

/**
 * What `cluster --k auto` and `map:compute` do, on synthetic L2-normalised 384-d embeddings (50
 * centres, noise of relative norm 1), at 10k and 100k:
 *  - clustering = auto-k (silhouette on a 1000 sample) + spherical k-means (3 restarts fitted on a
 *    10k sample, then Lloyd on all points); baseline: plain Lloyd's k-means, one restart from random
 *    seeds, every point, same k, up to 50 iterations.
 *  - map = kNN graph (k = 10) from the HNSW index + UMAP-style layout; baseline for the graph: exact
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
      let c0 = cpu();
      const auto = chooseK(vectors, { seed: 1 });
      const km = sphericalKMeans(vectors, auto.k, { restarts: 3, seed: 1, sampleSize: 10_000 });
      const clusterCpu = cpu() - c0;
      const kmS = seconds(t0);
      log(`  ${label}: auto k = ${auto.k}, auto-k + k-means ${kmS.toFixed(1)} s (cpu ${clusterCpu.toFixed(1)} s, inertia ${km.inertia.toFixed(0)})`);

      t0 = performance.now();
      c0 = cpu();
      const rng = seededRng(9);
      const seeds = subset(vectors, sampleIndices(n, auto.k, rng));
      const base = plainLloyd(vectors, seeds, 50);
      const baseS = seconds(t0);
      const baseCpu = cpu() - c0;
      log(`  ${label}: baseline Lloyd ${baseS.toFixed(1)} s (cpu ${baseCpu.toFixed(1)} s), ${base.iterations} iterations (inertia ${base.inertia.toFixed(0)})`);
      results.push({
        name: `k-means (auto k) @${label}`,
        value: kmS,
        unit: 's',
        baseline: 'plain Lloyd k-means, 1 random restart, all points, same k',
        baselineValue: baseS,
        ratio: ratio(kmS, baseS),
        extra: { k: auto.k, cpuSeconds: clusterCpu, baselineCpuSeconds: baseCpu, inertia: km.inertia, baselineInertia: base.inertia },
      });

      t0 = performance.now();
      const index = VectorIndex.create(dim, { capacity: n });
      for (let i = 0; i < n; i++) index.add(i, row(vectors, i));
      const buildS = seconds(t0);
      const ids = [...Array(n).keys()];
      t0 = performance.now();
      c0 = cpu();
      const graph: KnnGraph = await buildKnnGraph(index, ids, 10, { vectors: vectors.data });
      const graphS = seconds(t0);
      const graphCpu = cpu() - c0;
      t0 = performance.now();
      c0 = cpu();
      const y = project(vectors, graph, { seed: 1 });
      const layoutS = seconds(t0);
      const layoutCpu = cpu() - c0;
      if (!y.every(Number.isFinite)) throw new Error('layout produced non-finite coordinates');
      let bruteS: number;
      c0 = cpu();
      if (n <= 10_000) {
        t0 = performance.now();
        exactKnnGraph(vectors, 10);
        bruteS = seconds(t0);
      } else {
        t0 = performance.now();
        for (let i = 0; i < 1000; i++) exactTopK(vectors, row(vectors, i), 10, i);
        bruteS = (seconds(t0) * n) / 1000;
      }
      const bruteCpu = ((cpu() - c0) * (n <= 10_000 ? 1 : n)) / (n <= 10_000 ? 1 : 1000);
      log(`  ${label}: index build ${buildS.toFixed(1)} s, kNN graph ${graphS.toFixed(1)} s (cpu ${graphCpu.toFixed(1)}; brute force ${bruteS.toFixed(1)} s, cpu ${bruteCpu.toFixed(1)}), layout ${layoutS.toFixed(1)} s (cpu ${layoutCpu.toFixed(1)})`);
      results.push({
        name: `map (kNN graph + layout) @${label}`,
        value: graphS + layoutS,
        unit: 's',
        baseline: n <= 10_000 ? 'exact kNN graph + same layout' : 'exact kNN graph (1000 rows, scaled) + same layout',
        baselineValue: bruteS + layoutS,
        ratio: ratio(graphS + layoutS, bruteS + layoutS),
        extra: { graphSeconds: graphS, layoutSeconds: layoutS, bruteGraphSeconds: bruteS, cpuSeconds: graphCpu + layoutCpu, baselineCpuSeconds: bruteCpu + layoutCpu, indexBuildSeconds: buildS },
      });
      results.push({
        name: `clustering + map @${label}`,
        value: kmS + graphS + layoutS,
        unit: 's',
        baseline: 'Lloyd k-means + exact kNN graph + same layout',
        baselineValue: baseS + bruteS + layoutS,
        ratio: ratio(kmS + graphS + layoutS, baseS + bruteS + layoutS),
        extra: { goalSeconds: 60, cpuSeconds: clusterCpu + graphCpu + layoutCpu, indexBuildSeconds: buildS },
      });
    }
    return results;
  },
};
