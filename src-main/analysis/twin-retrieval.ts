import { dotAt, type Vectors } from './vectors';

/**
 * The augmentation-retrieval probe: row i of `originals` and row i of `views` are two views of one photo
 * (the photo as embedded, and a random augmentation of it). Every one of the 2n vectors looks for its
 * nearest neighbour (cosine: rows L2-normalised) among the other 2n - 1; the score is the share that
 * find their twin. It needs invariance (a photo's two views close) and discrimination (other photos
 * farther): a collapsed space scores ~1 / (2n - 1), a space that only remembers pixels loses the
 * augmented twins. No labels involved.
 */
export function twinRetrieval(originals: Vectors, views: Vectors): number {
  const n = originals.n;
  if (views.n !== n || views.dim !== originals.dim) throw new Error(`${n} originals of ${originals.dim} values against ${views.n} views of ${views.dim}`);
  if (n < 2) throw new Error('the retrieval probe needs at least 2 photos');
  const dim = originals.dim;
  const at = (i: number): [Float32Array, number] => (i < n ? [originals.data, i * dim] : [views.data, (i - n) * dim]);
  let found = 0;
  for (let i = 0; i < 2 * n; i++) {
    const [a, ao] = at(i);
    const twin = i < n ? i + n : i - n;
    let best = -Infinity;
    let bestJ = -1;
    for (let j = 0; j < 2 * n; j++) {
      if (j === i) continue;
      const [b, bo] = at(j);
      const s = dotAt(a, ao, b, bo, dim);
      // a tie with the twin does not count as found: a collapsed space must not score by accident
      if (s > best || (s === best && bestJ === twin)) {
        best = s;
        bestJ = j;
      }
    }
    if (bestJ === twin) found++;
  }
  return found / (2 * n);
}
