import { dotAt, type Vectors } from './vectors';

// Embedding-quality metrics. k-NN follows DINO's eval_knn.py exactly; NMI, ARI and purity follow
// sklearn's definitions (NMI with the arithmetic mean, sklearn's default average_method).

/**
 * Weighted k-NN classification accuracy, as `knn_classifier` in DINO's eval_knn.py: cosine similarity
 * (features L2-normalised), the top-k train samples vote for their class with weight exp(sim / T),
 * T = 0.07, and the class with the largest summed weight is the prediction. Evaluated leave-one-out:
 * every sample is classified by all the others and never votes for itself. Ties between classes go
 * to the lowest class index (torch's sort leaves them unspecified). Returns accuracy per k.
 */
export function knnAccuracy(v: Vectors, labels: ArrayLike<number>, ks: readonly number[] = [10, 20], T = 0.07): Record<number, number> {
  const n = v.n;
  if (labels.length !== n) throw new Error(`${labels.length} labels for ${n} vectors`);
  const maxK = Math.min(Math.max(...ks), n - 1);
  const classes = Math.max(-1, ...Array.from(labels)) + 1;
  const correct: Record<number, number> = {};
  for (const k of ks) correct[k] = 0;
  const sims = new Float64Array(maxK);
  const idx = new Int32Array(maxK);
  const votes = new Float64Array(classes);
  for (let i = 0; i < n; i++) {
    // top-maxK by similarity, excluding i itself (leave-one-out)
    sims.fill(-Infinity);
    idx.fill(-1);
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const s = dotAt(v.data, i * v.dim, v.data, j * v.dim, v.dim);
      if (s <= sims[maxK - 1]!) continue;
      let p = maxK - 1;
      while (p > 0 && sims[p - 1]! < s) {
        sims[p] = sims[p - 1]!;
        idx[p] = idx[p - 1]!;
        p--;
      }
      sims[p] = s;
      idx[p] = j;
    }
    for (const k of ks) {
      votes.fill(0);
      const kk = Math.min(k, maxK);
      for (let r = 0; r < kk; r++) if (idx[r]! >= 0) votes[labels[idx[r]!]!]! += Math.exp(sims[r]! / T);
      let best = 0;
      for (let c = 1; c < classes; c++) if (votes[c]! > votes[best]!) best = c;
      if (best === labels[i]) correct[k]!++;
    }
  }
  const out: Record<number, number> = {};
  for (const k of ks) out[k] = n > 0 ? correct[k]! / n : 0;
  return out;
}

/** Contingency table of two labelings over the same samples. */
function contingency(a: ArrayLike<number>, b: ArrayLike<number>): { table: Map<string, number>; rows: Map<number, number>; cols: Map<number, number>; n: number } {
  if (a.length !== b.length) throw new Error(`labelings differ in length: ${a.length} vs ${b.length}`);
  const table = new Map<string, number>();
  const rows = new Map<number, number>();
  const cols = new Map<number, number>();
  for (let i = 0; i < a.length; i++) {
    const key = `${a[i]},${b[i]}`;
    table.set(key, (table.get(key) ?? 0) + 1);
    rows.set(a[i]!, (rows.get(a[i]!) ?? 0) + 1);
    cols.set(b[i]!, (cols.get(b[i]!) ?? 0) + 1);
  }
  return { table, rows, cols, n: a.length };
}

function entropy(counts: Iterable<number>, n: number): number {
  let h = 0;
  for (const c of counts) if (c > 0) h -= (c / n) * Math.log(c / n);
  return h;
}

/** Normalised mutual information, NMI = MI / mean(H(truth), H(pred)) (sklearn's 'arithmetic'). */
export function nmi(truth: ArrayLike<number>, pred: ArrayLike<number>): number {
  const { table, rows, cols, n } = contingency(truth, pred);
  if (n === 0) return 0;
  const hu = entropy(rows.values(), n);
  const hv = entropy(cols.values(), n);
  // sklearn: two single-cluster labelings are identical -> 1; one single cluster only -> 0
  if (hu === 0 && hv === 0) return 1;
  let mi = 0;
  for (const [key, nij] of table) {
    const [r, c] = key.split(',').map(Number) as [number, number];
    mi += (nij / n) * Math.log((n * nij) / (rows.get(r)! * cols.get(c)!));
  }
  const denom = (hu + hv) / 2;
  return denom > 0 ? Math.max(0, mi / denom) : 0;
}

const comb2 = (x: number): number => (x * (x - 1)) / 2;

/** Adjusted Rand index (Hubert and Arabie), as sklearn's adjusted_rand_score. */
export function ari(truth: ArrayLike<number>, pred: ArrayLike<number>): number {
  const { table, rows, cols, n } = contingency(truth, pred);
  let sumIj = 0;
  for (const v of table.values()) sumIj += comb2(v);
  let sumA = 0;
  for (const v of rows.values()) sumA += comb2(v);
  let sumB = 0;
  for (const v of cols.values()) sumB += comb2(v);
  const expected = (sumA * sumB) / comb2(n);
  const max = (sumA + sumB) / 2;
  // sklearn: identical trivial labelings (all one cluster, or all singletons) score 1
  if (max === expected) return 1;
  return (sumIj - expected) / (max - expected);
}

/** Purity: each predicted cluster counts its most common true class; the sum over n. */
export function purity(truth: ArrayLike<number>, pred: ArrayLike<number>): number {
  const { table, n } = contingency(truth, pred);
  if (n === 0) return 0;
  const best = new Map<number, number>();
  for (const [key, nij] of table) {
    const c = Number(key.split(',')[1]);
    best.set(c, Math.max(best.get(c) ?? 0, nij));
  }
  let s = 0;
  for (const v of best.values()) s += v;
  return s / n;
}
