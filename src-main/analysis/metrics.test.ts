import { describe, expect, it } from 'vitest';
import { ari, knnAccuracy, nmi, purity } from './metrics';
import { fromRows, normalize } from './vectors';

const unit = (...x: number[]): Float32Array => normalize(Float32Array.from(x));

describe('knnAccuracy (DINO eval_knn weighting, leave-one-out)', () => {
  it('weights votes by exp(sim / T) so one close neighbour can outvote two far ones', () => {
    // Query q (class 0) at angle 0; one class-0 neighbour at 10 degrees; two class-1 points at 40 degrees.
    const deg = (d: number): Float32Array => unit(Math.cos((d * Math.PI) / 180), Math.sin((d * Math.PI) / 180));
    const v = fromRows([deg(0), deg(10), deg(40), deg(-40)]);
    const labels = [0, 0, 1, 1];
    // Hand computation for sample 0 with k = 3: votes(0) = exp(cos10/0.07) = exp(14.068) = 1.29e6,
    // votes(1) = 2 exp(cos40/0.07) = 2 exp(10.943) = 1.13e5 -> class 0, correct. Unweighted majority
    // would say class 1.
    const w0 = Math.exp(Math.cos((10 * Math.PI) / 180) / 0.07);
    const w1 = 2 * Math.exp(Math.cos((40 * Math.PI) / 180) / 0.07);
    expect(w0).toBeGreaterThan(w1);
    // Sample 1 (10 deg, class 0): neighbours 0 (10 deg away), 2 (30), 3 (50): exp(cos10/T) vs
    // exp(cos30/T)+exp(cos50/T) -> class 0, correct. Sample 2 (40 deg, class 1): neighbours 1 (30 deg),
    // 0 (40), 3 (80): votes 0 = exp(cos30/T)+exp(cos40/T) > exp(cos80/T) -> wrong. Sample 3 (-40):
    // neighbours 0 (40), 1 (50), 2 (80) -> class 0, wrong. Accuracy = 2/4.
    expect(knnAccuracy(v, labels, [3])[3]).toBeCloseTo(0.5, 10);
    // k = 1: 0 -> 1 (class 0, right), 1 -> 0 (right), 2 -> 1 (class 0, wrong), 3 -> 0 (wrong) = 0.5
    expect(knnAccuracy(v, labels, [1])[1]).toBeCloseTo(0.5, 10);
  });

  it('never lets a sample vote for itself', () => {
    // Each point is alone in its class: with itself excluded it can never be right.
    const v = fromRows([unit(1, 0), unit(0, 1), unit(-1, 0)]);
    expect(knnAccuracy(v, [0, 1, 2], [1, 2])).toEqual({ 1: 0, 2: 0 });
  });

  it('is 1 for perfectly separated classes', () => {
    const v = fromRows([unit(1, 0.01), unit(1, -0.01), unit(1, 0), unit(-1, 0.01), unit(-1, -0.01), unit(-1, 0)]);
    expect(knnAccuracy(v, [0, 0, 0, 1, 1, 1], [2])[2]).toBe(1);
  });
});

describe('clustering metrics', () => {
  // truth [0,0,0,1,1,1], pred [0,0,1,1,2,2]: contingency rows (3,3), cols (2,2,2),
  // cells n00=2 n01=1 n11=1 n12=2.
  const truth = [0, 0, 0, 1, 1, 1];
  const pred = [0, 0, 1, 1, 2, 2];

  it('NMI with arithmetic normalisation, computed by hand', () => {
    const n = 6;
    const mi = (2 / n) * Math.log((n * 2) / (3 * 2)) * 2 + (1 / n) * Math.log((n * 1) / (3 * 2)) * 2;
    const hu = Math.log(2);
    const hv = Math.log(3);
    expect(nmi(truth, pred)).toBeCloseTo(mi / ((hu + hv) / 2), 12);
    // sklearn.metrics.normalized_mutual_info_score gives 0.5158037429793889 for this pair
    expect(nmi(truth, pred)).toBeCloseTo(0.5158037429793889, 12);
    expect(nmi(truth, truth)).toBeCloseTo(1, 12);
    expect(nmi(truth, [5, 5, 5, 9, 9, 9])).toBeCloseTo(1, 12);
  });

  it('ARI computed by hand', () => {
    // sum C(nij,2) = 1 + 0 + 0 + 1 = 2; sum C(a,2) = 3 + 3 = 6; sum C(b,2) = 1 + 1 + 1 = 3; C(6,2) = 15
    // expected = 6 * 3 / 15 = 1.2; max = 4.5; ARI = (2 - 1.2) / (4.5 - 1.2) = 0.242424...
    expect(ari(truth, pred)).toBeCloseTo(0.8 / 3.3, 12);
    expect(ari(truth, truth)).toBeCloseTo(1, 12);
    // a labeling that splits every class evenly is at or below chance
    expect(ari([0, 0, 1, 1], [0, 1, 0, 1])).toBeLessThanOrEqual(0);
  });

  it('purity computed by hand', () => {
    // cluster 0: {0,0} -> 2; cluster 1: {0,1} -> 1; cluster 2: {1,1} -> 2; (2+1+2)/6
    expect(purity(truth, pred)).toBeCloseTo(5 / 6, 12);
    expect(purity(truth, [0, 0, 0, 0, 0, 0])).toBeCloseTo(0.5, 12);
  });
});
