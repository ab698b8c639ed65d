import { sphericalKMeans } from './kmeans';
import { sampleIndices, seededRng } from './random';
import { dotAt, subset, type Vectors } from './vectors';

export interface AutoKOptions {
  kMin?: number;
  /** default min(30, floor(sqrt(n))) */
  kMax?: number;
  /** points the criterion is computed on (the silhouette is quadratic in it); default 1000 */
  sampleSize?: number;
  restarts?: number;
  seed?: number;
  onProgress?(done: number, total: number): void;
}

export interface AutoKResult {
  k: number;
  /** the criterion for every k tried */
  scores: { k: number; silhouette: number }[];
}

/**
 * Mean silhouette (Rousseeuw 1987) with the cosine distance 1 - sim, from a precomputed distance
 * matrix: for each point, a = mean distance to its own cluster, b = the smallest mean distance to
 * another cluster, s = (b - a) / max(a, b); singletons score 0 (sklearn's convention).
 */
export function meanSilhouette(dist: Float32Array, n: number, labels: Int32Array, k: number): number {
  const sums = new Float64Array(k);
  const sizes = new Int32Array(k);
  for (let i = 0; i < n; i++) sizes[labels[i]!]!++;
  let total = 0;
  for (let i = 0; i < n; i++) {
    sums.fill(0);
    const o = i * n;
    for (let j = 0; j < n; j++) sums[labels[j]!]! += dist[o + j]!;
    const own = labels[i]!;
    if (sizes[own]! <= 1) continue;
    const a = sums[own]! / (sizes[own]! - 1);
    let b = Infinity;
    for (let c = 0; c < k; c++) if (c !== own && sizes[c]! > 0) b = Math.min(b, sums[c]! / sizes[c]!);
    if (!Number.isFinite(b)) continue;
    const m = Math.max(a, b);
    total += m > 0 ? (b - a) / m : 0;
  }
  return n > 0 ? total / n : 0;
}

/** Cosine distances between all rows (n x n). */
export function cosineDistances(v: Vectors): Float32Array {
  const { n, dim } = v;
  const d = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const x = Math.max(0, 1 - dotAt(v.data, i * dim, v.data, j * dim, dim));
      d[i * n + j] = x;
      d[j * n + i] = x;
    }
  }
  return d;
}

/** The k values tried: every k up to 12, then steps of about 15% up to kMax. */
export function candidateKs(kMin: number, kMax: number): number[] {
  const ks: number[] = [];
  for (let k = kMin; k <= kMax; k = k < 12 ? k + 1 : Math.max(k + 1, Math.round(k * 1.15))) ks.push(k);
  if (ks.at(-1) !== kMax && kMax >= kMin) ks.push(kMax);
  return ks;
}

/**
 * Chooses k for spherical k-means by the highest mean silhouette over a range of k, computed on a
 * random sample (k-means is fitted on the same sample). The silhouette rewards clusters that are
 * tight and far from each other, needs no labels, and is what the test checks on synthetic data
 * with a known number of well-separated groups. Ties go to the smaller k.
 */
export function chooseK(v: Vectors, opts: AutoKOptions = {}): AutoKResult {
  const kMin = Math.max(2, opts.kMin ?? 2);
  const kMax = Math.min(opts.kMax ?? Math.min(30, Math.floor(Math.sqrt(v.n))), v.n - 1);
  if (kMax < kMin) return { k: Math.max(1, Math.min(v.n, kMin)), scores: [] };
  const rng = seededRng(opts.seed ?? 7);
  const sample = v.n > (opts.sampleSize ?? 1000) ? subset(v, sampleIndices(v.n, opts.sampleSize ?? 1000, rng)) : v;
  const dist = cosineDistances(sample);
  const ks = candidateKs(kMin, Math.min(kMax, sample.n - 1));
  const scores: { k: number; silhouette: number }[] = [];
  ks.forEach((k, i) => {
    const km = sphericalKMeans(sample, k, { restarts: opts.restarts ?? 2, seed: (opts.seed ?? 7) + k, maxIterations: 30 });
    scores.push({ k, silhouette: meanSilhouette(dist, sample.n, km.assignments, k) });
    opts.onProgress?.(i + 1, ks.length);
  });
  let best = scores[0]!;
  for (const s of scores) if (s.silhouette > best.silhouette + 1e-9) best = s;
  return { k: best.k, scores };
}
