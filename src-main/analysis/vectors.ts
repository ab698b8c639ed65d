// Row-major float32 matrices of embeddings. Kept as one flat Float32Array (not number[][]) because
// 100k x 384 floats is 150 MB as a typed array and several times that as JS arrays.

export interface Vectors {
  /** number of rows */
  n: number;
  dim: number;
  /** n * dim floats, row i at [i * dim, (i + 1) * dim) */
  data: Float32Array;
}

export function makeVectors(n: number, dim: number): Vectors {
  return { n, dim, data: new Float32Array(n * dim) };
}

/** Packs separate rows into one matrix (rows must share a length). */
export function fromRows(rows: readonly Float32Array[], dim?: number): Vectors {
  const d = dim ?? rows[0]?.length ?? 0;
  const out = makeVectors(rows.length, d);
  rows.forEach((r, i) => {
    if (r.length !== d) throw new Error(`row ${i} has ${r.length} values, expected ${d}`);
    out.data.set(r, i * d);
  });
  return out;
}

export function row(v: Vectors, i: number): Float32Array {
  return v.data.subarray(i * v.dim, (i + 1) * v.dim);
}

/** Dot product of a[aOff..aOff+dim) and b[bOff..bOff+dim); unrolled by 4, the JIT's best case. */
export function dotAt(a: Float32Array, aOff: number, b: Float32Array, bOff: number, dim: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let j = 0;
  const end4 = dim - (dim % 4);
  for (; j < end4; j += 4) {
    s0 += a[aOff + j]! * b[bOff + j]!;
    s1 += a[aOff + j + 1]! * b[bOff + j + 1]!;
    s2 += a[aOff + j + 2]! * b[bOff + j + 2]!;
    s3 += a[aOff + j + 3]! * b[bOff + j + 3]!;
  }
  for (; j < dim; j++) s0 += a[aOff + j]! * b[bOff + j]!;
  return s0 + s1 + s2 + s3;
}

export function normalizeAt(a: Float32Array, off: number, dim: number): void {
  let s = 0;
  for (let j = 0; j < dim; j++) s += a[off + j]! * a[off + j]!;
  if (s === 0) return;
  const inv = 1 / Math.sqrt(s);
  for (let j = 0; j < dim; j++) a[off + j]! *= inv;
}

export function normalize(a: Float32Array): Float32Array {
  const out = Float32Array.from(a);
  normalizeAt(out, 0, out.length);
  return out;
}

/** The rows at the given indices, as a new matrix. */
export function subset(v: Vectors, indices: ArrayLike<number>): Vectors {
  const out = makeVectors(indices.length, v.dim);
  for (let i = 0; i < indices.length; i++) out.data.set(row(v, indices[i]!), i * v.dim);
  return out;
}
