// Measures recall@10 and query latency over a grid of HNSW parameters, to choose params.ts.
// Run: npx tsx src-main/vector-index/tune.ts [n=100000] [Ms=12,16,24] [efC=100] [clusters=n/100] [spread=1]
import { exactTopK } from '../analysis/exact-knn';
import { sampleIndices, seededRng } from '../analysis/random';
import { syntheticEmbeddings } from '../analysis/synthetic';
import { row } from '../analysis/vectors';
import { VectorIndex } from './vector-index';

const n = Number(process.argv[2] ?? 100_000);
const Ms = (process.argv[3] ?? '12,16,24').split(',').map(Number);
const efCs = (process.argv[4] ?? '100').split(',').map(Number);
const dim = 384;
const Q = 500;
const clusters = Number(process.argv[5] ?? Math.max(10, Math.round(n / 100)));
const spread = Number(process.argv[6] ?? 1.0);
console.log(`n ${n} clusters ${clusters} spread ${spread}`);
const { vectors } = syntheticEmbeddings({ n, dim, clusters, spread, seed: 7 });
const queryIdx = sampleIndices(n, Q, seededRng(3));
const t0 = performance.now();
const truth = [...queryIdx].map((i) => new Set(exactTopK(vectors, row(vectors, i), 10).map((h) => h.index)));
console.log(`truth: ${((performance.now() - t0) / Q).toFixed(2)} ms/query brute force`);
console.log('M efC ef recall@10 p50ms p99ms build_s');
for (const M of Ms) {
  for (const efConstruction of efCs) {
    const tb = performance.now();
    const idx = VectorIndex.create(dim, { M, efConstruction, capacity: n });
    for (let i = 0; i < n; i++) idx.add(i, row(vectors, i));
    const build = (performance.now() - tb) / 1000;
    for (const ef of [16, 32, 48, 64, 96, 128]) {
      idx.setEf(ef);
      const times: number[] = [];
      let hit = 0;
      queryIdx.forEach((qi, j) => {
        const q = row(vectors, qi);
        const t = performance.now();
        const res = idx.search(q, 10);
        times.push(performance.now() - t);
        for (const r of res) if (truth[j]!.has(r.id)) hit++;
      });
      times.sort((a, b) => a - b);
      console.log(M, efConstruction, ef, (hit / (Q * 10)).toFixed(4), times[Math.floor(Q * 0.5)]!.toFixed(3), times[Math.floor(Q * 0.99)]!.toFixed(3), build.toFixed(1));
    }
  }
}
