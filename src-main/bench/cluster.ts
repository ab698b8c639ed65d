import { chooseK } from '../analysis/auto-k';
import { exactKnnGraph, exactTopK, type Hit, type KnnGraph } from '../analysis/exact-knn';
import { ivfKnnGraph } from '../analysis/ivf-knn';
import { assign, sphericalKMeans } from '../analysis/kmeans';
import { nmi } from '../analysis/metrics';
import { project } from '../analysis/projection';
import { sampleIndices, seededRng } from '../analysis/random';
import { syntheticEmbeddings } from '../analysis/synthetic';
import { normalizeAt, row, subset, type Vectors } from '../analysis/vectors';
import { nativeRowDots } from '../services/backends/native-blas';
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

/** Over `samples` evenly spaced points: the fraction of their m nearest 2-D neighbours in their own group. */
function sameGroupFraction(y: Float32Array, labels: Int32Array, samples: number, m: number): number {
  const n = labels.length;
  const d = new Float64Array(n);
  let same = 0;
  for (let s = 0; s < samples; s++) {
    const i = Math.floor((s * n) / samples);
    for (let j = 0; j < n; j++) d[j] = j === i ? Infinity : (y[2 * i]! - y[2 * j]!) ** 2 + (y[2 * i + 1]! - y[2 * j + 1]!) ** 2;
    const near = exactTopK({ n, dim: 1, data: Float32Array.from(d, (x) => -x) }, new Float32Array([1]), m);
    for (const h of near) if (labels[h.index] === labels[i]) same++;
  }
  return same / (samples * m);
}

/**
 * What `cluster --k auto` and `map:compute` do, on synthetic L2-normalised 384-d embeddings (50
 * centres, noise of relative norm 1), at 10k and 100k:
 *  - clustering = auto-k (silhouette on a 1000 sample) + spherical k-means (3 restarts fitted on a
 *    10k sample, then Lloyd on all points); baseline: plain Lloyd's k-means, one restart from random
 *    seeds, every point, same k, up to 50 iterations.
 *  - map = kNN graph (k = 10) + UMAP-style layout. The graph as the app builds it: blocked brute force
 *    in a coarse partition with the native BLAS (analysis/ivf-knn), else from the HNSW index (whose
 *    build is reported apart: search builds it anyway, and it is kept on disk; DINO_NATIVE=0 measures
 *    this path, on one thread where the app uses two from 20k photos). Baseline for the
 *    graph: exact brute force (at 100k timed on 1000 rows and scaled by n / 1000: the full run takes
 *    hours); those exact rows also give the graph's recall@10.
 *  - quality: NMI of the clustering against the 50 true groups; recall@10 of the graph; for the map,
 *    the fraction of a sample's 10 nearest 2-D neighbours from the same true group.
 */
export const benchmark: Benchmark = {
  name: 'cluster',
  description: 'k-means (auto k) and 2-D map time at 10k and 100k synthetic 384-d embeddings',
  async run({ log, quick }) {
    const results: BenchResult[] = [];
    for (const n of quick ? [10_000] : [10_000, 100_000]) {
      const dim = 384;
      const label = `${n / 1000}k`;
      const { vectors, labels } = syntheticEmbeddings({ n, dim, clusters: 50, spread: 1.0, seed: 5 });

      let t0 = performance.now();
      let c0 = cpu();
      const auto = chooseK(vectors, { seed: 1 });
      const km = sphericalKMeans(vectors, auto.k, { restarts: 3, seed: 1, sampleSize: 10_000, dots: nativeRowDots() ?? undefined });
      const clusterCpu = cpu() - c0;
      const kmS = seconds(t0);
      const clusterNmi = nmi(labels, km.assignments);
      log(`  ${label}: auto k = ${auto.k}, auto-k + k-means ${kmS.toFixed(1)} s (cpu ${clusterCpu.toFixed(1)} s, inertia ${km.inertia.toFixed(0)}, NMI ${clusterNmi.toFixed(3)})`);

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
        extra: { k: auto.k, nmi: clusterNmi, cpuSeconds: clusterCpu, baselineCpuSeconds: baseCpu, inertia: km.inertia, baselineInertia: base.inertia },
      });

      const dots = nativeRowDots();
      let buildS = 0;
      let graph: KnnGraph;
      t0 = performance.now();
      let graphCpu = cpu();
      if (dots) graph = ivfKnnGraph(vectors, 10, dots);
      else {
        const index = VectorIndex.create(dim, { capacity: n });
        for (let i = 0; i < n; i++) index.add(i, row(vectors, i));
        buildS = seconds(t0);
        t0 = performance.now();
        graphCpu = cpu();
        graph = await buildKnnGraph(index, [...Array(n).keys()], 10, { vectors: vectors.data });
      }
      const graphS = seconds(t0);
      graphCpu = cpu() - graphCpu;
      const graphKind = dots ? 'blocked brute force in partition cells (native BLAS)' : 'HNSW queries';
      t0 = performance.now();
      c0 = cpu();
      const y = project(vectors, graph, { seed: 1 });
      const layoutS = seconds(t0);
      const layoutCpu = cpu() - c0;
      if (!y.every(Number.isFinite)) throw new Error('layout produced non-finite coordinates');
      const mapSameGroup = sameGroupFraction(y, labels, 300, 10);
      let bruteS: number;
      let exactRows: { row: number; hits: Hit[] }[];
      c0 = cpu();
      if (n <= 10_000) {
        t0 = performance.now();
        const exact = exactKnnGraph(vectors, 10);
        bruteS = seconds(t0);
        exactRows = [...Array(n).keys()].map((i) => ({ row: i, hits: [...Array(10).keys()].map((a) => ({ index: exact.indices[i * 10 + a]!, similarity: exact.similarities[i * 10 + a]! })) }));
      } else {
        t0 = performance.now();
        exactRows = [...Array(1000).keys()].map((i) => ({ row: i, hits: exactTopK(vectors, row(vectors, i), 10, i) }));
        bruteS = (seconds(t0) * n) / 1000;
      }
      const bruteCpu = ((cpu() - c0) * (n <= 10_000 ? 1 : n)) / (n <= 10_000 ? 1 : 1000);
      let found = 0;
      for (const { row: i, hits } of exactRows) {
        const mine = new Set(graph.indices.subarray(i * 10, (i + 1) * 10));
        for (const h of hits) if (mine.has(h.index)) found++;
      }
      const recall = found / (exactRows.length * 10);
      log(`  ${label}: graph by ${graphKind}: recall@10 ${recall.toFixed(3)}; map: 10 nearest 2-D neighbours from the same group ${mapSameGroup.toFixed(3)}`);
      log(`  ${label}: index build ${buildS.toFixed(1)} s, kNN graph ${graphS.toFixed(1)} s (cpu ${graphCpu.toFixed(1)}; brute force ${bruteS.toFixed(1)} s, cpu ${bruteCpu.toFixed(1)}), layout ${layoutS.toFixed(1)} s (cpu ${layoutCpu.toFixed(1)})`);
      results.push({
        name: `map (kNN graph + layout) @${label}`,
        value: graphS + layoutS,
        unit: 's',
        baseline: n <= 10_000 ? 'exact kNN graph + same layout' : 'exact kNN graph (1000 rows, scaled) + same layout',
        baselineValue: bruteS + layoutS,
        ratio: ratio(graphS + layoutS, bruteS + layoutS),
        extra: { graph: graphKind, recallAt10: recall, mapSameGroup, graphSeconds: graphS, layoutSeconds: layoutS, bruteGraphSeconds: bruteS, cpuSeconds: graphCpu + layoutCpu, baselineCpuSeconds: bruteCpu + layoutCpu, indexBuildSeconds: buildS },
      });
      results.push({
        name: `clustering + map @${label}`,
        value: kmS + graphS + layoutS,
        unit: 's',
        baseline: 'Lloyd k-means + exact kNN graph + same layout',
        baselineValue: baseS + bruteS + layoutS,
        ratio: ratio(kmS + graphS + layoutS, baseS + bruteS + layoutS),
        extra: { goalSeconds: 60, nmi: clusterNmi, recallAt10: recall, cpuSeconds: clusterCpu + graphCpu + layoutCpu, indexBuildSeconds: buildS },
      });
    }
    return results;
  },
};
