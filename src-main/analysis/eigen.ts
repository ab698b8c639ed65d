// Eigenvalues of a real symmetric matrix, for the effective rank (rankme.ts): Householder reduction to
// tridiagonal form, then the QL algorithm with implicit Wilkinson shifts (Golub & Van Loan 8.3; the
// values-only variant, O(n^3) with a small constant: ~0.1 s at n = 384 in plain JS). Doubles throughout:
// the smallest of a few hundred singular values squared span many orders of magnitude.

/**
 * The eigenvalues of the symmetric n x n matrix `a` (row-major, only its lower triangle is read; it is
 * overwritten), in ascending order.
 */
export function symmetricEigenvalues(a: Float64Array, n: number): Float64Array {
  if (a.length !== n * n) throw new Error(`a ${n} x ${n} matrix needs ${n * n} values, not ${a.length}`);
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  tridiagonalize(a, n, d, e);
  tridiagonalQl(d, e);
  return d.sort();
}

/**
 * Householder reflections from the last row up turn `a` into a similar tridiagonal matrix: its diagonal
 * into d, its sub-diagonal into e[1..n-1] (e[0] = 0).
 */
function tridiagonalize(a: Float64Array, n: number, d: Float64Array, e: Float64Array): void {
  for (let i = n - 1; i > 0; i--) {
    const l = i - 1;
    const ri = i * n;
    let h = 0;
    let scale = 0;
    for (let k = 0; k <= l; k++) scale += Math.abs(a[ri + k]!);
    if (l === 0 || scale === 0) {
      // nothing to annihilate left of the sub-diagonal
      e[i] = a[ri + l]!;
      continue;
    }
    // scaling keeps h = |u|^2 from under- or overflowing
    for (let k = 0; k <= l; k++) {
      a[ri + k]! /= scale;
      h += a[ri + k]! ** 2;
    }
    let f = a[ri + l]!;
    const g0 = f >= 0 ? -Math.sqrt(h) : Math.sqrt(h);
    e[i] = scale * g0;
    h -= f * g0;
    a[ri + l] = f - g0;
    // p = A u / h into e[0..l], and K = u.p / 2h
    f = 0;
    for (let j = 0; j <= l; j++) {
      let g = 0;
      for (let k = 0; k <= j; k++) g += a[j * n + k]! * a[ri + k]!;
      for (let k = j + 1; k <= l; k++) g += a[k * n + j]! * a[ri + k]!;
      e[j] = g / h;
      f += e[j]! * a[ri + j]!;
    }
    const hh = f / (h + h);
    // A' = A - q u^T - u q^T with q = p - K u, on the lower triangle
    for (let j = 0; j <= l; j++) {
      const fj = a[ri + j]!;
      const gj = e[j]! - hh * fj;
      e[j] = gj;
      for (let k = 0; k <= j; k++) a[j * n + k]! -= fj * e[k]! + gj * a[ri + k]!;
    }
  }
  e[0] = 0;
  for (let i = 0; i < n; i++) d[i] = a[i * n + i]!;
}

/** Diagonalises the tridiagonal (d, e[1..]) in place: d ends as the eigenvalues (unsorted). */
function tridiagonalQl(d: Float64Array, e: Float64Array): void {
  const n = d.length;
  // e[i] couples d[i] and d[i + 1] from here on
  for (let i = 1; i < n; i++) e[i - 1] = e[i]!;
  if (n > 0) e[n - 1] = 0;
  for (let l = 0; l < n; l++) {
    for (let iter = 0; ; iter++) {
      // the first negligible off-diagonal element at or after l splits off a block
      let m = l;
      for (; m < n - 1; m++) {
        const dd = Math.abs(d[m]!) + Math.abs(d[m + 1]!);
        if (Math.abs(e[m]!) <= Number.EPSILON * dd) break;
      }
      if (m === l) break;
      if (iter === 60) throw new Error('eigenvalues: the QL iteration did not converge');
      // Wilkinson shift from the leading 2 x 2 block
      let g = (d[l + 1]! - d[l]!) / (2 * e[l]!);
      let r = Math.hypot(g, 1);
      g = d[m]! - d[l]! + e[l]! / (g + (g >= 0 ? r : -r));
      let s = 1;
      let c = 1;
      let p = 0;
      let deflated = false;
      for (let i = m - 1; i >= l; i--) {
        const f = s * e[i]!;
        const b = c * e[i]!;
        r = Math.hypot(f, g);
        e[i + 1] = r;
        if (r === 0) {
          // an exact zero: the block splits here, retry without the shift applied
          d[i + 1]! -= p;
          e[m] = 0;
          deflated = true;
          break;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1]! - p;
        r = (d[i]! - g) * s + 2 * c * b;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - b;
      }
      if (deflated) continue;
      d[l]! -= p;
      e[l] = g;
      e[m] = 0;
    }
  }
}
