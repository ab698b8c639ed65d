import { describe, expect, it } from 'vitest';
import { symmetricEigenvalues } from './eigen';
import { gaussian, seededRng } from './random';
import { kendallTau, ranks, spearman } from './rank-correlation';
import { rankMe } from './rankme';
import { twinRetrieval } from './twin-retrieval';
import { makeVectors, normalizeAt, type Vectors } from './vectors';

function randomMatrix(rows: number, cols: number, seed: number): Vectors {
  const rng = seededRng(seed);
  const v = makeVectors(rows, cols);
  for (let i = 0; i < v.data.length; i++) v.data[i] = gaussian(rng);
  return v;
}

/** Rows scaled to these singular values along random orthonormal directions (Gram-Schmidt). */
function withSingularValues(sigma: number[], rows: number, dim: number, seed: number): Vectors {
  const basis = randomMatrix(sigma.length, dim, seed).data;
  for (let i = 0; i < sigma.length; i++) {
    for (let j = 0; j < i; j++) {
      let d = 0;
      for (let k = 0; k < dim; k++) d += basis[i * dim + k]! * basis[j * dim + k]!;
      for (let k = 0; k < dim; k++) basis[i * dim + k]! -= d * basis[j * dim + k]!;
    }
    normalizeAt(basis, i * dim, dim);
  }
  // Z = U S V^T with U the first columns of the identity: row i is sigma_i v_i, the rest zero
  const z = makeVectors(rows, dim);
  sigma.forEach((s, i) => {
    for (let k = 0; k < dim; k++) z.data[i * dim + k] = s * basis[i * dim + k]!;
  });
  return z;
}

describe('symmetricEigenvalues', () => {
  it('finds the known spectrum of the second-difference matrix', () => {
    const n = 40;
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      a[i * n + i] = 2;
      if (i > 0) a[i * n + i - 1] = a[(i - 1) * n + i] = -1;
    }
    const got = symmetricEigenvalues(a, n);
    const want = Array.from({ length: n }, (_, k) => 2 - 2 * Math.cos(((k + 1) * Math.PI) / (n + 1)));
    got.forEach((g, i) => expect(g).toBeCloseTo(want[i]!, 12));
  });

  it('keeps the trace and the Frobenius norm of a random symmetric matrix, and a diagonal one exactly', () => {
    const n = 60;
    const r = randomMatrix(n, n, 3).data;
    const a = new Float64Array(n * n);
    let trace = 0;
    let frob = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        a[i * n + j] = (r[i * n + j]! + r[j * n + i]!) / 2;
        frob += a[i * n + j]! ** 2;
      }
      trace += a[i * n + i]!;
    }
    const l = symmetricEigenvalues(Float64Array.from(a), n);
    expect(l.reduce((s, x) => s + x, 0)).toBeCloseTo(trace, 9);
    expect(l.reduce((s, x) => s + x * x, 0)).toBeCloseTo(frob, 8);
    for (let i = 1; i < n; i++) expect(l[i]!).toBeGreaterThanOrEqual(l[i - 1]!);
    expect([...symmetricEigenvalues(Float64Array.from([3, 0, 0, 0, -1, 0, 0, 0, 2]), 3)]).toEqual([-1, 2, 3]);
    expect(() => symmetricEigenvalues(new Float64Array(5), 2)).toThrow(/2 x 2 matrix needs 4 values/);
  });
});

describe('rankMe', () => {
  it('is the number of equal singular values, whatever the rotation and the matrix orientation', () => {
    // 3 equal singular values: rank 3, in a 50 x 20 matrix (Z^T Z path) and a 10 x 64 one (Z Z^T path);
    // the paper's eps on each of the zero singular values adds ~1e-4
    expect(rankMe(withSingularValues([2, 2, 2], 50, 20, 1))).toBeCloseTo(3, 3);
    expect(rankMe(withSingularValues([5, 5, 5, 5, 5, 5], 10, 64, 2))).toBeCloseTo(6, 3);
  });

  it('falls to ~1 for a collapsed space and rises with spread', () => {
    expect(rankMe(withSingularValues([10, 1e-4, 1e-4], 30, 16, 4))).toBeLessThan(1.01);
    // the paper's definition: exp(entropy of sigma / sum(sigma))
    const sigma = [4, 2, 1, 1];
    const p = sigma.map((s) => s / 8);
    const want = Math.exp(-p.reduce((s, q) => s + q * Math.log(q), 0));
    expect(rankMe(withSingularValues(sigma, 12, 8, 5))).toBeCloseTo(want, 4);
    const spread = rankMe(randomMatrix(200, 32, 6));
    expect(spread).toBeGreaterThan(28);
    expect(spread).toBeLessThanOrEqual(32);
    expect(rankMe(makeVectors(5, 4))).toBe(0);
  });
});

describe('twinRetrieval', () => {
  function views(n: number, dim: number, noise: number, seed: number): { originals: Vectors; views: Vectors } {
    const rng = seededRng(seed);
    const o = randomMatrix(n, dim, seed + 100);
    const v = makeVectors(n, dim);
    for (let i = 0; i < n; i++) {
      normalizeAt(o.data, i * dim, dim);
      for (let k = 0; k < dim; k++) v.data[i * dim + k] = o.data[i * dim + k]! + (noise / Math.sqrt(dim)) * gaussian(rng);
      normalizeAt(v.data, i * dim, dim);
    }
    return { originals: o, views: v };
  }

  it('scores invariant and discriminative spaces near 1, noisy ones lower, a collapsed one 0', () => {
    const clean = views(100, 32, 0.2, 1);
    expect(twinRetrieval(clean.originals, clean.views)).toBe(1);
    const noisy = views(100, 32, 1.5, 2);
    const s = twinRetrieval(noisy.originals, noisy.views);
    expect(s).toBeGreaterThan(0.05);
    expect(s).toBeLessThan(0.9);
    // every vector the same: all ties, no twin found by accident
    const same = makeVectors(20, 4);
    for (let i = 0; i < 20; i++) same.data[i * 4] = 1;
    expect(twinRetrieval(same, same)).toBe(0);
  });

  it('counts each direction: a view that finds its original but not the reverse scores half', () => {
    // originals o0 = (1, 0), o1 = (0, 1); both views next to o0 but v1 nearer o1 than o0 is
    const o = { n: 2, dim: 2, data: Float32Array.from([1, 0, 0, 1]) };
    const c = Math.SQRT1_2;
    const v = { n: 2, dim: 2, data: Float32Array.from([0.99, Math.sqrt(1 - 0.99 ** 2), c, c]) };
    // o0 -> v0 (0.99) yes; o1 -> v1 (0.707) yes; v0 -> o0 yes; v1 -> v0 (0.80) no
    expect(twinRetrieval(o, v)).toBe(0.75);
    expect(() => twinRetrieval(o, { n: 1, dim: 2, data: new Float32Array(2) })).toThrow(/2 originals/);
  });
});

describe('rank correlation', () => {
  it('matches scipy on ties and orderings', () => {
    expect(ranks([10, 20, 20, 5])).toEqual([2, 3.5, 3.5, 1]);
    expect(spearman([1, 2, 3, 4], [10, 20, 30, 40])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
    // scipy.stats.spearmanr([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]).statistic == 0.8
    expect(spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5])).toBeCloseTo(0.8, 12);
    // scipy.stats.kendalltau([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]).statistic == 0.6
    expect(kendallTau([1, 2, 3, 4, 5], [2, 1, 4, 3, 5])).toBeCloseTo(0.6, 12);
    // scipy.stats.spearmanr([1, 2, 2, 3], [1, 3, 2, 4]).statistic == 0.9486832980505138
    expect(spearman([1, 2, 2, 3], [1, 3, 2, 4])).toBeCloseTo(0.9486832980505138, 12);
    expect(spearman([1, 1, 1], [1, 2, 3])).toBeNaN();
  });
});
