import { dotAt } from './vectors';

/**
 * c (m x n) = a (m x k) times b (n x k) transposed, all row-major: every dot product between the rows
 * of two blocks. The only dense product the analysis needs; the caller passes a BLAS sgemm when one
 * is loaded (analysis/ stays a leaf that imports no native code), else `jsRowDots`.
 */
export type RowDots = (a: Float32Array, b: Float32Array, c: Float32Array, m: number, n: number, k: number) => void;

/** Plain-JS RowDots: correct everywhere, ~50x slower than OpenBLAS; tests and small inputs. */
export const jsRowDots: RowDots = (a, b, c, m, n, k) => {
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) c[i * n + j] = dotAt(a, i * k, b, j * k, k);
};
