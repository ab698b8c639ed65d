import { describe, expect, it } from 'vitest';
import { chooseK, candidateKs, cosineDistances } from './auto-k';
import { assign, kmeansPlusPlus, lloyd, sphericalKMeans } from './kmeans';
import { seededRng } from './random';
import { jsRowDots } from './row-dots';
import { normalizeAt, subset } from './vectors';
import { nmi } from './metrics';
import { syntheticEmbeddings } from './synthetic';

describe('spherical k-means', () => {
  it('recovers well-separated synthetic clusters', () => {
    const { vectors, labels } = syntheticEmbeddings({ n: 1500, dim: 32, clusters: 6, spread: 0.4, seed: 3 });
    const km = sphericalKMeans(vectors, 6, { restarts: 3, seed: 1 });
    expect(nmi(labels, km.assignments)).toBeGreaterThan(0.98);
    // centroids are unit vectors and similarities are to the assigned centroid
    for (let c = 0; c < 6; c++) {
      let s = 0;
      for (let j = 0; j < 32; j++) s += km.centroids.data[c * 32 + j]! ** 2;
      expect(s).toBeCloseTo(1, 5);
    }
    let inertia = 0;
    for (const s of km.similarities) inertia += 1 - s;
    expect(km.inertia).toBeCloseTo(inertia, 3);
  });

  it('keeps the restart with the lowest inertia', () => {
    const { vectors } = syntheticEmbeddings({ n: 800, dim: 16, clusters: 12, spread: 0.8, seed: 5 });
    const single = [1, 2, 3, 4, 5].map((seed) => sphericalKMeans(vectors, 12, { restarts: 1, seed }).inertia);
    const best = sphericalKMeans(vectors, 12, { restarts: 5, seed: 1 }).inertia;
    expect(best).toBeLessThanOrEqual(Math.max(...single));
    expect(best).toBeLessThanOrEqual(Math.min(...single) * 1.02);
  });

  it('fits on a sample and still assigns every point', () => {
    const { vectors, labels } = syntheticEmbeddings({ n: 6000, dim: 24, clusters: 5, spread: 0.4, seed: 9 });
    const km = sphericalKMeans(vectors, 5, { sampleSize: 1000, seed: 2 });
    expect(km.assignments.length).toBe(6000);
    expect(Math.min(...km.assignments)).toBe(0);
    expect(nmi(labels, km.assignments)).toBeGreaterThan(0.98);
  });

  it('Lloyd with Hamerly bounds gives the same clustering as plain Lloyd', () => {
    const { vectors } = syntheticEmbeddings({ n: 2000, dim: 24, clusters: 15, spread: 1.2, seed: 4 });
    const seeds = kmeansPlusPlus(vectors, 15, seededRng(8));
    const plain = { n: 15, dim: 24, data: seeds.data.slice() };
    const a = new Int32Array(2000);
    const sims = new Float32Array(2000);
    for (let it = 0; it < 200; it++) {
      const before = a.slice();
      assign(vectors, plain, a, sims);
      if (it > 0 && a.every((x, i) => x === before[i])) break;
      const sums = new Float64Array(15 * 24);
      for (let i = 0; i < 2000; i++) for (let j = 0; j < 24; j++) sums[a[i]! * 24 + j]! += vectors.data[i * 24 + j]!;
      for (let c = 0; c < 15; c++) {
        for (let j = 0; j < 24; j++) plain.data[c * 24 + j] = sums[c * 24 + j]!;
        normalizeAt(plain.data, c * 24, 24);
      }
    }
    const fast = lloyd(vectors, { n: 15, dim: 24, data: seeds.data.slice() }, 200, 0);
    expect(Array.from(fast.assignments)).toEqual(Array.from(a));
  });

  it('gives the same result with a dense product for the full scans and with precomputed distances', () => {
    const { vectors } = syntheticEmbeddings({ n: 1500, dim: 24, clusters: 9, spread: 0.9, seed: 12 });
    const plain = sphericalKMeans(vectors, 9, { seed: 4, sampleSize: 600 });
    const dense = sphericalKMeans(vectors, 9, { seed: 4, sampleSize: 600, dots: jsRowDots });
    expect(Array.from(dense.assignments)).toEqual(Array.from(plain.assignments));
    const small = subset(vectors, [...Array(500).keys()]);
    const a = sphericalKMeans(small, 9, { seed: 4 });
    const b = sphericalKMeans(small, 9, { seed: 4, distances: cosineDistances(small) });
    expect(nmi(a.assignments, b.assignments)).toBeGreaterThan(0.99);
  });

  it('is deterministic for a seed', () => {
    const { vectors } = syntheticEmbeddings({ n: 500, dim: 8, clusters: 4, spread: 0.9, seed: 1 });
    const a = sphericalKMeans(vectors, 4, { seed: 3 });
    const b = sphericalKMeans(vectors, 4, { seed: 3 });
    expect(Array.from(a.assignments)).toEqual(Array.from(b.assignments));
  });
});

describe('automatic k (mean silhouette)', () => {
  it.each([3, 7, 11])('picks the true k = %i on well-separated clusters', (trueK) => {
    const { vectors } = syntheticEmbeddings({ n: 1200, dim: 48, clusters: trueK, spread: 0.5, seed: 20 + trueK });
    const r = chooseK(vectors, { kMax: 20, sampleSize: 800 });
    expect(r.k).toBe(trueK);
    expect(r.scores.length).toBeGreaterThan(5);
  });

  it('tries every k up to 12, then sparser steps', () => {
    expect(candidateKs(2, 30)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 16, 18, 21, 24, 28, 30]);
  });
});
