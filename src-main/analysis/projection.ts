import type { KnnGraph } from './exact-knn';
import { gaussian, sampleIndices, seededRng, type Rng } from './random';
import { dotAt, type Vectors } from './vectors';

// A 2-D map that keeps neighbours together, after UMAP (McInnes, Healy and Melville 2018): fuzzy
// neighbour weights from a kNN graph, then SGD on the layout with attraction along graph edges and
// negative sampling for repulsion. The kNN graph comes from the caller (the HNSW index in the app,
// the exact graph in tests), so this file needs nothing but arrays. Simplifications: PCA instead of
// spectral initialisation; the low-dimensional kernel 1 / (1 + d^2) (UMAP's a = b = 1, the t-SNE
// kernel) instead of UMAP's fitted a = 1.577, b = 0.895: a fractional power per update made the layout
// 3x slower, and the picture differs only in how tightly clusters pack.

const A = 1;

export interface ProjectionOptions {
  /** SGD epochs; default 200 up to 10k points, 120 above (UMAP itself drops to 200 for big sets) */
  epochs?: number;
  negativeSamples?: number;
  seed?: number;
  /** starting layout (2n values); default: the first two principal components */
  init?: Float32Array;
  onProgress?(done: number, total: number): void;
  /** called between epochs; throw from it to stop (the job's cancel checkpoint) */
  between?(): void;
}

/** Directed fuzzy weights -> one weighted edge list, symmetrised with w = a + b - ab (fuzzy union). */
function fuzzyEdges(g: KnnGraph): { from: Int32Array; to: Int32Array; weight: Float32Array } {
  const { n, k } = g;
  const w = new Float32Array(n * k);
  const target = Math.log2(Math.max(2, k));
  for (let i = 0; i < n; i++) {
    const o = i * k;
    let rho = Infinity;
    for (let j = 0; j < k; j++) if (g.indices[o + j]! >= 0) rho = Math.min(rho, 1 - g.similarities[o + j]!);
    if (!Number.isFinite(rho)) continue;
    // binary search sigma so that sum exp(-(d - rho) / sigma) = log2(k)
    let lo = 0;
    let hi = Infinity;
    let sigma = 1;
    for (let it = 0; it < 64; it++) {
      let s = 0;
      for (let j = 0; j < k; j++) {
        if (g.indices[o + j]! < 0) continue;
        const d = Math.max(0, 1 - g.similarities[o + j]! - rho);
        s += Math.exp(-d / sigma);
      }
      if (Math.abs(s - target) < 1e-5) break;
      if (s > target) {
        hi = sigma;
        sigma = (lo + hi) / 2;
      } else {
        lo = sigma;
        sigma = hi === Infinity ? sigma * 2 : (lo + hi) / 2;
      }
    }
    for (let j = 0; j < k; j++) {
      if (g.indices[o + j]! < 0) continue;
      const d = Math.max(0, 1 - g.similarities[o + j]! - rho);
      w[o + j] = Math.exp(-d / Math.max(sigma, 1e-6));
    }
  }
  // at most one edge per directed pair: preallocate (typed arrays, no per-edge allocation)
  const from = new Int32Array(n * k);
  const to = new Int32Array(n * k);
  const weight = new Float32Array(n * k);
  let E = 0;
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < k; a++) {
      const j = g.indices[i * k + a]!;
      if (j < 0 || j === i) continue;
      // weight of the reverse edge j -> i, if j lists i
      let back = 0;
      let backListed = false;
      for (let b = 0; b < k; b++) {
        if (g.indices[j * k + b] === i) {
          back = w[j * k + b]!;
          backListed = true;
          break;
        }
      }
      if (backListed && j < i) continue; // kept once, from the smaller index
      const wij = w[i * k + a]!;
      from[E] = i;
      to[E] = j;
      weight[E] = wij + back - wij * back;
      E++;
    }
  }
  return { from: from.slice(0, E), to: to.slice(0, E), weight: weight.slice(0, E) };
}

/** First two principal components of (a sample of) the rows, by power iteration; scaled to +-10. */
function pcaInit(v: Vectors, rng: Rng): Float32Array {
  const { n, dim } = v;
  const sample = sampleIndices(n, Math.min(n, 5000), rng);
  const mean = new Float64Array(dim);
  for (const i of sample) for (let j = 0; j < dim; j++) mean[j]! += v.data[i * dim + j]! / sample.length;
  const comps: Float64Array[] = [];
  for (let c = 0; c < 2; c++) {
    let u = new Float64Array(dim).map(() => gaussian(rng));
    for (let it = 0; it < 15; it++) {
      const next = new Float64Array(dim);
      for (const i of sample) {
        let p = 0;
        for (let j = 0; j < dim; j++) p += (v.data[i * dim + j]! - mean[j]!) * u[j]!;
        for (let j = 0; j < dim; j++) next[j]! += p * (v.data[i * dim + j]! - mean[j]!);
      }
      for (const prev of comps) {
        let p = 0;
        for (let j = 0; j < dim; j++) p += next[j]! * prev[j]!;
        for (let j = 0; j < dim; j++) next[j]! -= p * prev[j]!;
      }
      let norm = 0;
      for (let j = 0; j < dim; j++) norm += next[j]! * next[j]!;
      norm = Math.sqrt(norm) || 1;
      u = next.map((x) => x / norm);
    }
    comps.push(u);
  }
  const y = new Float32Array(2 * n);
  for (let c = 0; c < 2; c++) {
    const u32 = Float32Array.from(comps[c]!);
    let shift = 0;
    for (let j = 0; j < dim; j++) shift += mean[j]! * comps[c]![j]!;
    for (let i = 0; i < n; i++) y[2 * i + c] = dotAt(v.data, i * dim, u32, 0, dim) - shift;
  }
  return scaleTo(y, 10, rng);
}

/** Scales a layout into [-box, box] and adds a little jitter so coincident points can separate. */
function scaleTo(y: Float32Array, box: number, rng: Rng): Float32Array {
  let max = 0;
  for (const x of y) max = Math.max(max, Math.abs(x));
  const s = max > 0 ? box / max : 1;
  for (let i = 0; i < y.length; i++) y[i] = y[i]! * s + (rng() - 0.5) * 1e-3 * box;
  return y;
}

/** Lays out n points in 2-D from their kNN graph. Returns x0, y0, x1, y1, ... */
export function project(v: Vectors, g: KnnGraph, opts: ProjectionOptions = {}): Float32Array {
  const n = g.n;
  const rng = seededRng(opts.seed ?? 11);
  if (n === 0) return new Float32Array(0);
  if (n === 1) return new Float32Array(2);
  const y = opts.init ? Float32Array.from(opts.init) : pcaInit(v, rng);
  const epochs = opts.epochs ?? (n <= 10_000 ? 200 : 120);
  const negRate = opts.negativeSamples ?? 5;
  const { from, to, weight } = fuzzyEdges(g);
  const E = from.length;
  let maxW = 0;
  for (const w of weight) maxW = Math.max(maxW, w);
  // UMAP's scheduling: an edge of weight w is sampled every maxW / w epochs.
  const epochsPerSample = new Float32Array(E);
  const nextSample = new Float32Array(E);
  const epochsPerNeg = new Float32Array(E);
  const nextNeg = new Float32Array(E);
  for (let e = 0; e < E; e++) {
    epochsPerSample[e] = weight[e]! > 0 ? maxW / weight[e]! : Infinity;
    nextSample[e] = epochsPerSample[e]!;
    epochsPerNeg[e] = epochsPerSample[e]! / negRate;
    nextNeg[e] = epochsPerNeg[e]!;
  }
  // The loop below makes ~230M updates at 100k points (k = 10, 120 epochs, 5 negative samples): the
  // random source for negative samples is an inline xorshift32 on a local instead of a closure call,
  // clipping is inlined and the moving point stays in registers; together that took the layout of
  // 100k points from 12 to 7 CPU seconds, with the same neighbour preservation.
  let state = (Math.floor(rng() * 0x7fffffff) | 1) >>> 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    opts.between?.();
    const alpha = 1 - epoch / epochs;
    const lim = 4 * alpha;
    const now = epoch + 1;
    for (let e = 0; e < E; e++) {
      if (nextSample[e]! > now) continue;
      const i2 = 2 * from[e]!;
      const j2 = 2 * to[e]!;
      const yi0 = y[i2]!;
      const yi1 = y[i2 + 1]!;
      let dx = yi0 - y[j2]!;
      let dy = yi1 - y[j2 + 1]!;
      let d2 = dx * dx + dy * dy;
      let gi0 = 0;
      let gi1 = 0;
      if (d2 > 0) {
        const coeff = (-2 * A) / (A * d2 + 1);
        // clip(coeff * d) * alpha = clip to +-4 alpha of (coeff * alpha * d)
        let gx = coeff * dx * alpha;
        let gy = coeff * dy * alpha;
        gx = gx > lim ? lim : gx < -lim ? -lim : gx;
        gy = gy > lim ? lim : gy < -lim ? -lim : gy;
        gi0 = gx;
        gi1 = gy;
        y[j2]! -= gx;
        y[j2 + 1]! -= gy;
      }
      let x0 = yi0 + gi0;
      let x1 = yi1 + gi1;
      nextSample[e]! += epochsPerSample[e]!;
      const negs = Math.floor((now - nextNeg[e]!) / epochsPerNeg[e]!);
      for (let s = 0; s < negs; s++) {
        state ^= state << 13;
        state ^= state >>> 17;
        state ^= state << 5;
        const m2 = 2 * Math.floor(((state >>> 0) / 4294967296) * n);
        if (m2 === i2) continue;
        dx = x0 - y[m2]!;
        dy = x1 - y[m2 + 1]!;
        d2 = dx * dx + dy * dy;
        if (d2 <= 0) continue;
        const coeff = (2 * alpha) / ((0.001 + d2) * (A * d2 + 1));
        let gx = coeff * dx;
        let gy = coeff * dy;
        gx = gx > lim ? lim : gx < -lim ? -lim : gx;
        gy = gy > lim ? lim : gy < -lim ? -lim : gy;
        x0 += gx;
        x1 += gy;
      }
      y[i2] = x0;
      y[i2 + 1] = x1;
      nextNeg[e]! += negs * epochsPerNeg[e]!;
    }
    opts.onProgress?.(epoch + 1, epochs);
  }
  return y;
}
