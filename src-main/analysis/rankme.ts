import { symmetricEigenvalues } from './eigen';
import type { Vectors } from './vectors';

/**
 * RankMe (Garrido et al., "RankMe: Assessing the downstream performance of pretrained self-supervised
 * representations by their rank", ICML 2023): the effective rank of the embedding matrix Z (n x dim),
 * exp of the entropy of its singular values normalised to sum 1 (each plus eps = 1e-7, as the paper).
 * From 1 (every photo on one line: a collapsed space) to min(n, dim) (spread evenly over every
 * direction); no labels involved. The singular values come from the smaller Gram matrix, Z Z^T or Z^T Z.
 */
export function rankMe(v: Vectors, eps = 1e-7): number {
  const { n, dim, data } = v;
  if (n === 0 || dim === 0) return 0;
  const m = Math.min(n, dim);
  const gram = new Float64Array(m * m);
  if (n <= dim) {
    // rows' dot products: Z Z^T
    for (let i = 0; i < n; i++) {
      for (let j = 0; j <= i; j++) {
        let s = 0;
        for (let k = 0; k < dim; k++) s += data[i * dim + k]! * data[j * dim + k]!;
        gram[i * m + j] = s;
      }
    }
  } else {
    // columns' dot products: Z^T Z, accumulated row by row (contiguous reads)
    for (let r = 0; r < n; r++) {
      const o = r * dim;
      for (let i = 0; i < dim; i++) {
        const x = data[o + i]!;
        if (x === 0) continue;
        for (let j = 0; j <= i; j++) gram[i * m + j]! += x * data[o + j]!;
      }
    }
  }
  const sigma = Array.from(symmetricEigenvalues(gram, m), (l) => Math.sqrt(Math.max(0, l)));
  const total = sigma.reduce((a, b) => a + b, 0);
  if (total === 0) return 0;
  let entropy = 0;
  for (const s of sigma) {
    const p = s / total + eps;
    entropy -= p * Math.log(p);
  }
  return Math.exp(entropy);
}
