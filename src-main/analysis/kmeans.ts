import { sampleIndices, seededRng, type Rng } from './random';
import type { RowDots } from './row-dots';
import { dotAt, makeVectors, normalizeAt, subset, type Vectors } from './vectors';

export interface KMeansOptions {
  /** independent runs from fresh k-means++ seeds; the lowest inertia is kept */
  restarts?: number;
  maxIterations?: number;
  /** stop when fewer than this fraction of points change cluster in an iteration */
  tolerance?: number;
  seed?: number;
  /**
   * Fit on a random sample of at most this many points, then assign everyone and refine with
   * `refineIterations` full passes. Clustering 100k photos does not need every photo to place the
   * centroids; this keeps k-means at 100k x 384 within seconds in plain JS.
   */
  sampleSize?: number;
  refineIterations?: number;
  /** n x n cosine distances of the points (when the caller has them): k-means++ reads rows of it */
  distances?: Float32Array;
  /** a dense product (BLAS) for the full assignment scans; default plain JS */
  dots?: RowDots;
  onProgress?(done: number, total: number): void;
}

export interface KMeansResult {
  k: number;
  /** cluster of each point */
  assignments: Int32Array;
  /** unit-norm centroids (k x dim) */
  centroids: Vectors;
  /** cosine similarity of each point to its centroid */
  similarities: Float32Array;
  /** sum over points of (1 - similarity to its centroid) */
  inertia: number;
  iterations: number;
}

/**
 * For each point, the most similar centroid. Four centroids per pass over the point's values: the
 * point stays in registers and the loop runs ~25% faster than one dot product at a time.
 */
export function assign(v: Vectors, centroids: Vectors, assignments: Int32Array, similarities: Float32Array): number {
  const { dim } = v;
  const X = v.data;
  const C = centroids.data;
  const k = centroids.n;
  let inertia = 0;
  for (let i = 0; i < v.n; i++) {
    const o = i * dim;
    let best = -1;
    let bestSim = -Infinity;
    let c = 0;
    for (; c + 3 < k; c += 4) {
      const c0 = c * dim;
      const c1 = c0 + dim;
      const c2 = c1 + dim;
      const c3 = c2 + dim;
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      for (let j = 0; j < dim; j++) {
        const x = X[o + j]!;
        a0 += x * C[c0 + j]!;
        a1 += x * C[c1 + j]!;
        a2 += x * C[c2 + j]!;
        a3 += x * C[c3 + j]!;
      }
      if (a0 > bestSim) {
        bestSim = a0;
        best = c;
      }
      if (a1 > bestSim) {
        bestSim = a1;
        best = c + 1;
      }
      if (a2 > bestSim) {
        bestSim = a2;
        best = c + 2;
      }
      if (a3 > bestSim) {
        bestSim = a3;
        best = c + 3;
      }
    }
    for (; c < k; c++) {
      const c0 = c * dim;
      let a = 0;
      for (let j = 0; j < dim; j++) a += X[o + j]! * C[c0 + j]!;
      if (a > bestSim) {
        bestSim = a;
        best = c;
      }
    }
    assignments[i] = best;
    similarities[i] = bestSim;
    inertia += 1 - bestSim;
  }
  return inertia;
}

/** Spherical centroids: the normalised mean direction of each cluster; an empty one is re-seeded. */
function updateCentroids(v: Vectors, assignments: Int32Array, similarities: Float32Array, centroids: Vectors): void {
  const { dim } = v;
  const sums = new Float64Array(centroids.n * dim);
  const counts = new Int32Array(centroids.n);
  for (let i = 0; i < v.n; i++) {
    const c = assignments[i]!;
    counts[c]!++;
    const o = i * dim;
    const s = c * dim;
    for (let j = 0; j < dim; j++) sums[s + j]! += v.data[o + j]!;
  }
  for (let c = 0; c < centroids.n; c++) {
    if (counts[c] === 0) {
      // Re-seed an empty cluster with the point worst served by its centroid.
      let worst = 0;
      for (let i = 1; i < v.n; i++) if (similarities[i]! < similarities[worst]!) worst = i;
      centroids.data.set(v.data.subarray(worst * dim, (worst + 1) * dim), c * dim);
      similarities[worst] = 1;
      continue;
    }
    for (let j = 0; j < dim; j++) centroids.data[c * dim + j] = sums[c * dim + j]!;
    normalizeAt(centroids.data, c * dim, dim);
  }
}

/**
 * Greedy k-means++ seeding (Arthur and Vassilvitskii; the greedy variant sklearn uses) with the
 * cosine distance 1 - sim: each new seed is the best, by total distance to the nearest seed, of
 * 2 + ln(k) candidates drawn with probability proportional to that distance. Plain k-means++ puts
 * two seeds in one true cluster often enough (11 well-separated clusters: most runs) that restarts
 * alone did not fix it.
 */
export function kmeansPlusPlus(v: Vectors, k: number, rng: Rng, distances?: Float32Array): Vectors {
  const { dim, n } = v;
  const centroids = makeVectors(k, dim);
  const trials = 2 + Math.floor(Math.log(k));
  const first = Math.floor(rng() * n);
  centroids.data.set(v.data.subarray(first * dim, (first + 1) * dim), 0);
  const dist = new Float64Array(n);
  if (distances && distances.length !== n * n) throw new Error('distances must be n x n');
  const distTo = (point: number, out: Float64Array): void => {
    // a row of the caller's distance matrix (auto-k has one) instead of n dot products
    if (distances) for (let i = 0; i < n; i++) out[i] = distances[point * n + i]!;
    else for (let i = 0; i < n; i++) out[i] = Math.max(0, 1 - dotAt(v.data, i * dim, v.data, point * dim, dim));
  };
  distTo(first, dist);
  const cand = new Float64Array(n);
  const bestCand = new Float64Array(n);
  for (let c = 1; c < k; c++) {
    let total = 0;
    for (let i = 0; i < n; i++) total += dist[i]!;
    let pick = -1;
    let pickPotential = Infinity;
    for (let t = 0; t < trials; t++) {
      let p = Math.floor(rng() * n);
      if (total > 0) {
        let r = rng() * total;
        for (let i = 0; i < n; i++) {
          r -= dist[i]!;
          if (r <= 0) {
            p = i;
            break;
          }
        }
      }
      distTo(p, cand);
      let potential = 0;
      for (let i = 0; i < n; i++) potential += Math.min(dist[i]!, cand[i]!);
      if (potential < pickPotential) {
        pickPotential = potential;
        pick = p;
        bestCand.set(cand);
      }
    }
    for (let i = 0; i < n; i++) if (bestCand[i]! < dist[i]!) dist[i] = bestCand[i]!;
    centroids.data.set(v.data.subarray(pick * dim, (pick + 1) * dim), c * dim);
  }
  return centroids;
}

const angle = (sim: number): number => Math.acos(sim > 1 ? 1 : sim < -1 ? -1 : sim);

/**
 * Best and second-best centroid of point i (four centroids per pass over the point's values).
 * Writes into out[0..2]: best index, best similarity, second-best similarity.
 */
function scanPoint(X: Float32Array, o: number, C: Float32Array, k: number, dim: number, out: Float64Array): void {
  let best = -1;
  let s1 = -Infinity;
  let s2 = -Infinity;
  const consider = (sim: number, c: number): void => {
    if (sim > s1) {
      s2 = s1;
      s1 = sim;
      best = c;
    } else if (sim > s2) s2 = sim;
  };
  let c = 0;
  for (; c + 3 < k; c += 4) {
    const c0 = c * dim;
    const c1 = c0 + dim;
    const c2 = c1 + dim;
    const c3 = c2 + dim;
    let a0 = 0;
    let a1 = 0;
    let a2 = 0;
    let a3 = 0;
    for (let j = 0; j < dim; j++) {
      const x = X[o + j]!;
      a0 += x * C[c0 + j]!;
      a1 += x * C[c1 + j]!;
      a2 += x * C[c2 + j]!;
      a3 += x * C[c3 + j]!;
    }
    consider(a0, c);
    consider(a1, c + 1);
    consider(a2, c + 2);
    consider(a3, c + 3);
  }
  for (; c < k; c++) consider(dotAt(X, o, C, c * dim, dim), c);
  out[0] = best;
  out[1] = s1;
  out[2] = s2;
}

/**
 * Lloyd iterations from given centroids (modified in place), with Hamerly's bounds on the angle
 * between a point and the centroids (the angle obeys the triangle inequality on the sphere): an
 * upper bound to its own centroid and a lower bound to every other one, both moved by how far the
 * centroids moved. A point whose bounds do not cross cannot change cluster and costs no dot product;
 * after the first few iterations that is almost every point, so a run costs little more than two
 * full passes. Same result as plain Lloyd.
 */
export function lloyd(v: Vectors, centroids: Vectors, maxIterations: number, tolerance: number, dots?: RowDots): KMeansResult {
  const { n, dim } = v;
  const k = centroids.n;
  const X = v.data;
  const C = centroids.data;
  const assignments = new Int32Array(n);
  const similarities = new Float32Array(n);
  const upper = new Float64Array(n);
  const lower = new Float64Array(n);
  const out = new Float64Array(3);
  if (dots) {
    // the first scan touches every (point, centroid) pair: one dense product per block of rows
    const rows = Math.max(1, Math.floor((4 << 20) / k));
    const sims = new Float32Array(Math.min(n, rows) * k);
    for (let s0 = 0; s0 < n; s0 += rows) {
      const s1 = Math.min(n, s0 + rows);
      dots(X.subarray(s0 * dim, s1 * dim), C, sims, s1 - s0, k, dim);
      for (let i = s0; i < s1; i++) {
        let best = -1;
        let s1st = -Infinity;
        let s2nd = -Infinity;
        for (let c = 0; c < k; c++) {
          const sim = sims[(i - s0) * k + c]!;
          if (sim > s1st) {
            s2nd = s1st;
            s1st = sim;
            best = c;
          } else if (sim > s2nd) s2nd = sim;
        }
        assignments[i] = best;
        upper[i] = angle(s1st);
        lower[i] = k > 1 ? angle(s2nd) : Infinity;
      }
    }
  } else {
    for (let i = 0; i < n; i++) {
      scanPoint(X, i * dim, C, k, dim, out);
      assignments[i] = out[0]!;
      upper[i] = angle(out[1]!);
      lower[i] = k > 1 ? angle(out[2]!) : Infinity;
    }
  }
  const delta = new Float64Array(k);
  let it = 1;
  for (; it < maxIterations; it++) {
    for (let i = 0; i < n; i++) similarities[i] = Math.cos(upper[i]!);
    const old = C.slice();
    updateCentroids(v, assignments, similarities, centroids);
    let max1 = 0;
    let max2 = 0;
    let argMax = -1;
    for (let c = 0; c < k; c++) {
      delta[c] = angle(dotAt(old, c * dim, C, c * dim, dim));
      if (delta[c]! > max1) {
        max2 = max1;
        max1 = delta[c]!;
        argMax = c;
      } else if (delta[c]! > max2) max2 = delta[c]!;
    }
    let changed = 0;
    for (let i = 0; i < n; i++) {
      const a = assignments[i]!;
      upper[i]! += delta[a]!;
      lower[i]! -= a === argMax ? max2 : max1;
      if (upper[i]! <= lower[i]!) continue;
      upper[i] = angle(dotAt(X, i * dim, C, a * dim, dim));
      if (upper[i]! <= lower[i]!) continue;
      scanPoint(X, i * dim, C, k, dim, out);
      if (out[0] !== a) changed++;
      assignments[i] = out[0]!;
      upper[i] = angle(out[1]!);
      lower[i] = k > 1 ? angle(out[2]!) : Infinity;
    }
    if (changed <= tolerance * n) break;
  }
  let inertia = 0;
  for (let i = 0; i < n; i++) {
    const s = dotAt(X, i * dim, C, assignments[i]! * dim, dim);
    similarities[i] = s;
    inertia += 1 - s;
  }
  return { k, assignments, centroids, similarities, inertia, iterations: it };
}

/**
 * Spherical k-means (cosine similarity on L2-normalised rows) with k-means++ initialisation and
 * several restarts, keeping the lowest inertia. Deterministic for a given seed.
 */
export function sphericalKMeans(v: Vectors, k: number, opts: KMeansOptions = {}): KMeansResult {
  if (k < 1) throw new Error(`k must be at least 1, got ${k}`);
  if (k > v.n) throw new Error(`k = ${k} is more than the ${v.n} points`);
  const restarts = opts.restarts ?? 4;
  const maxIterations = opts.maxIterations ?? 50;
  const tolerance = opts.tolerance ?? 1e-3;
  const rng = seededRng(opts.seed ?? 42);
  const sampled = opts.sampleSize !== undefined && v.n > opts.sampleSize;
  const fitOn = sampled ? subset(v, sampleIndices(v.n, opts.sampleSize!, rng)) : v;
  const totalSteps = restarts + (sampled ? 1 : 0);
  let best: KMeansResult | null = null;
  // Greedy k-means++ costs k (2 + ln k) passes over the points it seeds from: on 10k points at k = 50
  // that was most of a clustering's time. Seeds need only cover the groups, so each restart seeds from
  // its own random subsample of 1000 + 40 k points (every group of >= ~2% of the photos is in it
  // many times over); Lloyd then runs on all of `fitOn`.
  const seedSize = 1000 + 40 * k;
  for (let r = 0; r < restarts; r++) {
    const seedOn = fitOn.n > seedSize ? subset(fitOn, sampleIndices(fitOn.n, seedSize, rng)) : fitOn;
    const result = lloyd(fitOn, kmeansPlusPlus(seedOn, k, rng, seedOn === v ? opts.distances : undefined), maxIterations, tolerance, opts.dots);
    if (!best || result.inertia < best.inertia) best = result;
    opts.onProgress?.(r + 1, totalSteps);
  }
  if (!sampled) return best!;
  const full = lloyd(v, best!.centroids, Math.max(1, opts.refineIterations ?? 10), tolerance, opts.dots);
  opts.onProgress?.(totalSteps, totalSteps);
  return full;
}
