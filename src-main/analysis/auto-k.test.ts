import { describe, expect, it } from 'vitest';
import { chooseK, cosineDistances, meanSilhouette, pickK } from './auto-k';
import { sphericalKMeans } from './kmeans';
import { nmi } from './metrics';
import { gaussian, seededRng } from './random';
import { syntheticEmbeddings } from './synthetic';
import { makeVectors, normalizeAt, type Vectors } from './vectors';

/**
 * 12 groups of 100 in two families of 6 (group centres = family centre + 0.5 x a random direction),
 * group noise of relative norm 0.15 to 0.4: many groups of unequal spread, which the plain silhouette
 * argmax over k >= 2 splits into just the two families.
 */
function twoFamilies(): { vectors: Vectors; labels: Int32Array } {
  const dim = 48;
  const per = 100;
  const rng = seededRng(11);
  const unit = (): Float32Array => {
    const u = new Float32Array(dim);
    for (let j = 0; j < dim; j++) u[j] = gaussian(rng);
    normalizeAt(u, 0, dim);
    return u;
  };
  const families = [unit(), unit()];
  const vectors = makeVectors(12 * per, dim);
  const labels = new Int32Array(12 * per);
  for (let g = 0; g < 12; g++) {
    const c = unit();
    for (let j = 0; j < dim; j++) c[j] = families[g % 2]![j]! + 0.5 * c[j]!;
    normalizeAt(c, 0, dim);
    const sigma = (0.15 + (0.25 * (g % 5)) / 4) / Math.sqrt(dim);
    for (let i = 0; i < per; i++) {
      const o = (g * per + i) * dim;
      labels[g * per + i] = g;
      for (let j = 0; j < dim; j++) vectors.data[o + j] = c[j]! + sigma * gaussian(rng);
      normalizeAt(vectors.data, o, dim);
    }
  }
  return { vectors, labels };
}

describe('automatic k', () => {
  it.each([8, 12])('finds %i well-separated groups (within 1)', (trueK) => {
    const { vectors } = syntheticEmbeddings({ n: 2000, dim: 64, clusters: trueK, spread: 0.6, seed: 40 + trueK });
    const r = chooseK(vectors, { seed: 3 });
    expect(Math.abs(r.k - trueK)).toBeLessThanOrEqual(1);
    expect(r.criterion).toMatch(/cluster structure/);
  });

  it('does not settle for 2 when there are many groups of unequal spread', () => {
    const { vectors, labels } = twoFamilies();
    const r = chooseK(vectors, { seed: 5 });
    // the old rule (argmax from k = 2) chose 2 here: the two families score higher than the 12 groups
    const two = sphericalKMeans(vectors, 2, { restarts: 2, seed: 9 });
    expect(meanSilhouette(cosineDistances(vectors), vectors.n, two.assignments, 2)).toBeGreaterThan(Math.max(...r.scores.map((s) => s.silhouette)));
    expect(r.k).not.toBe(2);
    expect(Math.abs(r.k - 12)).toBeLessThanOrEqual(1);
    expect(nmi(labels, sphericalKMeans(vectors, r.k, { seed: 1 }).assignments)).toBeGreaterThan(0.95);
  });

  it('takes the peak when there is structure, the largest nearly-as-good k when there is none', () => {
    const peak = [{ k: 3, silhouette: 0.3 }, { k: 4, silhouette: 0.5 }, { k: 5, silhouette: 0.47 }, { k: 6, silhouette: 0.4 }];
    expect(pickK(peak).k).toBe(4);
    // falling from the smallest k, as on raw pixels: the argmax (3) would be no grouping at all
    const flat = [{ k: 3, silhouette: 0.18 }, { k: 4, silhouette: 0.15 }, { k: 8, silhouette: 0.139 }, { k: 9, silhouette: 0.12 }, { k: 10, silhouette: 0.135 }, { k: 12, silhouette: 0.1 }];
    expect(pickK(flat).k).toBe(10);
    expect(pickK(flat).criterion).toMatch(/no clear structure/);
  });
});
