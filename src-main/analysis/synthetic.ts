import { gaussian, seededRng } from './random';
import { makeVectors, normalizeAt, type Vectors } from './vectors';

/**
 * L2-normalised synthetic embeddings: `clusters` random unit centres in `dim` dimensions, each point a
 * centre plus isotropic Gaussian noise, then normalised. `spread` is the noise norm relative to the
 * centre's (1): 0.3 gives tight, well-separated groups; 1.0 groups that overlap like real photo
 * embeddings of a loosely themed collection. Used by tests and benchmarks, never by the app.
 */
export function syntheticEmbeddings(opts: { n: number; dim: number; clusters: number; spread: number; seed?: number }): {
  vectors: Vectors;
  labels: Int32Array;
} {
  const { n, dim, clusters, spread } = opts;
  const rng = seededRng(opts.seed ?? 1);
  const centres = makeVectors(clusters, dim);
  for (let c = 0; c < clusters; c++) {
    for (let j = 0; j < dim; j++) centres.data[c * dim + j] = gaussian(rng);
    normalizeAt(centres.data, c * dim, dim);
  }
  const vectors = makeVectors(n, dim);
  const labels = new Int32Array(n);
  const sigma = spread / Math.sqrt(dim);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(rng() * clusters);
    labels[i] = c;
    for (let j = 0; j < dim; j++) vectors.data[i * dim + j] = centres.data[c * dim + j]! + sigma * gaussian(rng);
    normalizeAt(vectors.data, i * dim, dim);
  }
  return { vectors, labels };
}
