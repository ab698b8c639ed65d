import { describe, expect, it } from 'vitest';
import { exactKnnGraph } from './exact-knn';
import { ivfKnnGraph } from './ivf-knn';
import { jsRowDots } from './row-dots';
import { syntheticEmbeddings } from './synthetic';

function recall(a: Int32Array, b: Int32Array, n: number, k: number): number {
  let hit = 0;
  for (let i = 0; i < n; i++) {
    const want = new Set(b.subarray(i * k, (i + 1) * k));
    for (let j = 0; j < k; j++) if (want.has(a[i * k + j]!)) hit++;
  }
  return hit / (n * k);
}

describe('kNN graph by brute force inside a partition', () => {
  it('is exact with a single cell', () => {
    const { vectors } = syntheticEmbeddings({ n: 400, dim: 16, clusters: 5, spread: 0.8, seed: 2 });
    const g = ivfKnnGraph(vectors, 8, jsRowDots, { cellSize: 1000 });
    const exact = exactKnnGraph(vectors, 8);
    expect(recall(g.indices, exact.indices, 400, 8)).toBe(1);
    for (let i = 0; i < 400 * 8; i++) expect(g.similarities[i]).toBeCloseTo(exact.similarities[i]!, 5);
  });

  it('finds nearly every true neighbour across cells, never the point itself', () => {
    // many more true groups (60) than cells (10): groups are cut by cell borders
    const { vectors } = syntheticEmbeddings({ n: 3000, dim: 32, clusters: 60, spread: 1.0, seed: 6 });
    const g = ivfKnnGraph(vectors, 10, jsRowDots, { cellSize: 300 });
    // 0.84 / 0.91 / 0.95 with each point a candidate in its 2 / 3 / 4 nearest cells
    expect(recall(g.indices, exactKnnGraph(vectors, 10).indices, 3000, 10)).toBeGreaterThan(0.93);
    for (let i = 0; i < 3000; i++) {
      const row = Array.from(g.indices.subarray(i * 10, (i + 1) * 10));
      expect(row).not.toContain(i);
      expect(row.every((j) => j >= 0)).toBe(true);
      for (let a = 1; a < 10; a++) expect(g.similarities[i * 10 + a]!).toBeLessThanOrEqual(g.similarities[i * 10 + a - 1]!);
    }
  });
});
