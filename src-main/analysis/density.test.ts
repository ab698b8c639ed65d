import { describe, expect, it } from 'vitest';
import { densityClusters } from './density';
import { exactKnnGraph } from './exact-knn';
import { nmi } from './metrics';
import { gaussian, seededRng } from './random';
import { syntheticEmbeddings } from './synthetic';
import { makeVectors, normalizeAt } from './vectors';

/** 6 tight groups of 150 plus 150 points scattered uniformly on the sphere (label -1). */
function groupsWithNoise(): { vectors: ReturnType<typeof makeVectors>; labels: Int32Array } {
  const dim = 16;
  const { vectors: groups, labels: groupLabels } = syntheticEmbeddings({ n: 900, dim, clusters: 6, spread: 0.35, seed: 2 });
  const vectors = makeVectors(1050, dim);
  vectors.data.set(groups.data);
  const rng = seededRng(8);
  for (let i = 900; i < 1050; i++) {
    for (let j = 0; j < dim; j++) vectors.data[i * dim + j] = gaussian(rng);
    normalizeAt(vectors.data, i * dim, dim);
  }
  const labels = new Int32Array(1050).fill(-1);
  labels.set(groupLabels);
  return { vectors, labels };
}

describe('density clusters (HDBSCAN-like)', () => {
  it('finds the dense groups and leaves scattered points unassigned', () => {
    const { vectors, labels } = groupsWithNoise();
    const r = densityClusters(exactKnnGraph(vectors, 10), { minClusterSize: 30 });
    expect(r.k).toBe(6);
    const inGroups = [...Array(900).keys()];
    const assigned = inGroups.filter((i) => r.labels[i]! >= 0);
    expect(assigned.length / 900).toBeGreaterThan(0.85);
    expect(nmi(assigned.map((i) => labels[i]!), assigned.map((i) => r.labels[i]!))).toBeGreaterThan(0.98);
    let noiseLeft = 0;
    for (let i = 900; i < 1050; i++) if (r.labels[i] === -1) noiseLeft++;
    expect(noiseLeft / 150).toBeGreaterThan(0.8);
    expect(r.stability.every((s) => s > 0)).toBe(true);
  });

  it('calls everything noise when no group reaches the minimum size', () => {
    const { vectors } = syntheticEmbeddings({ n: 200, dim: 16, clusters: 20, spread: 0.3, seed: 4 });
    const r = densityClusters(exactKnnGraph(vectors, 5), { minClusterSize: 50 });
    expect(r.k).toBe(0);
    expect(r.labels.every((l) => l === -1)).toBe(true);
  });
});
