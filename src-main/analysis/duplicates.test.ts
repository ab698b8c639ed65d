import { describe, expect, it } from 'vitest';
import { exactDuplicateGroups, nearDuplicateGroups } from './duplicates';
import { exactKnnGraph, exactTopK } from './exact-knn';
import { outlierScores, topOutliers } from './outliers';
import { gaussian, seededRng } from './random';
import { syntheticEmbeddings } from './synthetic';
import { fromRows, normalize, row } from './vectors';

describe('near duplicates and outliers', () => {
  it('groups near copies transitively and nothing else', () => {
    const rng = seededRng(1);
    // independent random directions: in 32-d two of them are almost never more than 0.8 similar
    const rows = [...Array(200).keys()].map(() => normalize(Float32Array.from({ length: 32 }, () => gaussian(rng))));
    // a chain of three near copies of row 5, and one exact copy of row 9
    const jitter = (v: Float32Array, s: number): Float32Array => normalize(v.map((x) => x + s * gaussian(rng)));
    rows.push(jitter(rows[5]!, 0.01), jitter(rows[5]!, 0.01), Float32Array.from(rows[9]!));
    const v = fromRows(rows);
    const g = exactKnnGraph(v, 5);
    const groups = nearDuplicateGroups(g, 0.95);
    expect(groups).toEqual([[5, 200, 201], [9, 202]]);
  });

  it('finds exact duplicates by content hash', () => {
    const items = [{ id: 1, hash: 'a' }, { id: 2, hash: 'b' }, { id: 3, hash: 'a' }, { id: 4, hash: null }, { id: 5, hash: 'a' }];
    expect(exactDuplicateGroups(items).map((g) => g.map((x) => x.id))).toEqual([[1, 3, 5]]);
  });

  it('scores the isolated point highest', () => {
    const { vectors } = syntheticEmbeddings({ n: 300, dim: 16, clusters: 3, spread: 0.3, seed: 6 });
    const rows: Float32Array[] = [...Array(300).keys()].map((i) => Float32Array.from(row(vectors, i)));
    const lonely: Float32Array = normalize(Float32Array.from({ length: 16 }, (_, j) => (j % 2 ? 1 : -1)));
    rows.push(lonely);
    const v = fromRows(rows);
    const scores = outlierScores(exactKnnGraph(v, 10));
    expect(topOutliers(scores, 1)).toEqual([300]);
    const nn = exactTopK(v, lonely, 11, 300);
    const mean = nn.slice(0, 10).reduce((s, h) => s + h.similarity, 0) / 10;
    expect(scores[300]).toBeCloseTo(1 - mean, 5);
  });
});
