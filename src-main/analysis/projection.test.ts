import { describe, expect, it } from 'vitest';
import { exactKnnGraph } from './exact-knn';
import { project } from './projection';
import { syntheticEmbeddings } from './synthetic';

/** fraction of each point's m nearest 2-D neighbours that share its label, averaged */
function sameLabelFraction(y: Float32Array, labels: Int32Array, m: number): number {
  const n = labels.length;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const d: [number, number][] = [];
    for (let j = 0; j < n; j++) if (j !== i) d.push([(y[2 * i]! - y[2 * j]!) ** 2 + (y[2 * i + 1]! - y[2 * j + 1]!) ** 2, j]);
    d.sort((a, b) => a[0] - b[0]);
    let same = 0;
    for (let r = 0; r < m; r++) if (labels[d[r]![1]] === labels[i]) same++;
    total += same / m;
  }
  return total / n;
}

describe('2-D projection', () => {
  it('keeps clusters together: 2-D neighbours share the cluster of the point', () => {
    const { vectors, labels } = syntheticEmbeddings({ n: 1200, dim: 64, clusters: 8, spread: 0.7, seed: 4 });
    const g = exactKnnGraph(vectors, 15);
    const y = project(vectors, g, { epochs: 150, seed: 1 });
    expect(y.length).toBe(2400);
    expect(y.every(Number.isFinite)).toBe(true);
    expect(sameLabelFraction(y, labels, 10)).toBeGreaterThan(0.95);
  });

  it('preserves high-dimensional neighbours better than a random layout', () => {
    const { vectors } = syntheticEmbeddings({ n: 600, dim: 32, clusters: 30, spread: 1.2, seed: 8 });
    const g = exactKnnGraph(vectors, 10);
    const y = project(vectors, g, { epochs: 200, seed: 2 });
    // fraction of the 10 high-dim neighbours found among the 10 nearest in 2-D
    let kept = 0;
    for (let i = 0; i < g.n; i++) {
      const d: [number, number][] = [];
      for (let j = 0; j < g.n; j++) if (j !== i) d.push([(y[2 * i]! - y[2 * j]!) ** 2 + (y[2 * i + 1]! - y[2 * j + 1]!) ** 2, j]);
      d.sort((a, b) => a[0] - b[0]);
      const near = new Set(d.slice(0, 10).map((x) => x[1]));
      for (let a = 0; a < 10; a++) if (near.has(g.indices[i * 10 + a]!)) kept++;
    }
    const fraction = kept / (g.n * 10);
    // a random layout keeps about 10 / 599 = 0.017
    expect(fraction).toBeGreaterThan(0.3);
  });
});
