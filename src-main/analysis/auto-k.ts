import { sphericalKMeans } from './kmeans';
import { sampleIndices, seededRng } from './random';
import { dotAt, subset, type Vectors } from './vectors';

export interface AutoKOptions {
  /** default 3, never below 3 (see chooseK) */
  kMin?: number;
  /** default min(50, floor(sqrt(n))) */
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
  /** which rule chose k, in words (stored with the clustering) */
  criterion: string;
}

/**
 * Kaufman and Rousseeuw's reading of the mean silhouette: above 0.25 the data has at least weak
 * cluster structure, below it "no substantial structure" (Finding Groups in Data, 1990, ch. 2).
 */
const STRUCTURE_SILHOUETTE = 0.25;
/** Without structure: the largest k whose silhouette is within this of the best is taken. */
const FLAT_TOLERANCE = 0.05;
/** k below this is never chosen automatically (see chooseK). */
const K_FLOOR = 3;

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
 * Chooses k for spherical k-means from the mean silhouette over k = 3..kMax, computed on a random
 * sample (k-means is fitted on the same sample):
 *  - when the best silhouette reaches 0.25 (cluster structure, see STRUCTURE_SILHOUETTE), the k with
 *    the highest silhouette (ties to the smaller k). Well-separated groups peak sharply at their number.
 *  - below 0.25 the silhouette has no real peak: on data without clear groups it is highest at the
 *    smallest k and falls slowly (raw pixels of caltech10, 10 classes: 0.26 at k = 2, 0.18 at 3, 0.12-0.15
 *    from 4 to 16), so its argmax says "as few as possible", which is useless for browsing. Then the
 *    largest k whose silhouette is within FLAT_TOLERANCE of the best: as fine a grouping as costs no
 *    real separation.
 * k = 2 is never chosen: the silhouette favours it on any elongated cloud (one split along the main
 * axis), and two groups of a photo collection are rarely what its user wants to browse.
 */
export function chooseK(v: Vectors, opts: AutoKOptions = {}): AutoKResult {
  const kMin = Math.max(K_FLOOR, opts.kMin ?? K_FLOOR);
  const kMax = Math.min(opts.kMax ?? Math.min(50, Math.floor(Math.sqrt(v.n))), v.n - 1);
  if (kMax < kMin) {
    const k = Math.max(1, Math.min(v.n, kMin, kMax));
    return { k, scores: [], criterion: `too few photos to choose: k = ${k}` };
  }
  const rng = seededRng(opts.seed ?? 7);
  const sample = v.n > (opts.sampleSize ?? 1000) ? subset(v, sampleIndices(v.n, opts.sampleSize ?? 1000, rng)) : v;
  const dist = cosineDistances(sample);
  const ks = candidateKs(kMin, Math.min(kMax, sample.n - 1));
  const scores: { k: number; silhouette: number }[] = [];
  ks.forEach((k, i) => {
    const km = sphericalKMeans(sample, k, { restarts: opts.restarts ?? 2, seed: (opts.seed ?? 7) + k, maxIterations: 30, distances: dist });
    scores.push({ k, silhouette: meanSilhouette(dist, sample.n, km.assignments, k) });
    opts.onProgress?.(i + 1, ks.length);
  });
  return { ...pickK(scores), scores };
}

/** The rule of chooseK on computed scores (exported for tests). */
export function pickK(scores: { k: number; silhouette: number }[]): { k: number; criterion: string } {
  let best = scores[0]!;
  for (const s of scores) if (s.silhouette > best.silhouette + 1e-9) best = s;
  const range = `mean silhouette (cosine) on a sample, k = ${scores[0]!.k}..${scores.at(-1)!.k}`;
  if (best.silhouette >= STRUCTURE_SILHOUETTE) return { k: best.k, criterion: `${range}: highest (${best.silhouette.toFixed(3)} >= ${STRUCTURE_SILHOUETTE}, cluster structure)` };
  let k = best.k;
  for (const s of scores) if (s.silhouette >= best.silhouette - FLAT_TOLERANCE && s.k > k) k = s.k;
  return { k, criterion: `${range}: no clear structure (best ${best.silhouette.toFixed(3)} < ${STRUCTURE_SILHOUETTE}), largest k within ${FLAT_TOLERANCE} of the best` };
}
