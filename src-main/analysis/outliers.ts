import type { KnnGraph } from './exact-knn';

/**
 * Outlier score per point: 1 - mean cosine similarity to its k nearest neighbours (the graph's k).
 * Higher = more outlying (a photo unlike anything else in the collection); 0 = its neighbours are
 * copies of it. A point without neighbours scores 1.
 */
export function outlierScores(g: KnnGraph): Float32Array {
  const out = new Float32Array(g.n);
  for (let i = 0; i < g.n; i++) {
    let s = 0;
    let c = 0;
    for (let a = 0; a < g.k; a++) {
      if (g.indices[i * g.k + a]! < 0) continue;
      s += g.similarities[i * g.k + a]!;
      c++;
    }
    out[i] = c > 0 ? 1 - s / c : 1;
  }
  return out;
}

/** Indices of the n highest scores, highest first. */
export function topOutliers(scores: Float32Array, n: number): number[] {
  return [...scores.keys()].sort((a, b) => scores[b]! - scores[a]! || a - b).slice(0, n);
}
