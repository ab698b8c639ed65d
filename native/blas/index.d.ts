export interface NativeBlas {
  /** the shared library opened, e.g. libopenblas.so.0 */
  library: string;
  /** c[i] = op(a[i]) op(b[i]) row-major, op = transpose when the flag is set; strides in elements (0 broadcasts) */
  gemm(
    a: Float32Array, b: Float32Array, c: Float32Array,
    batch: number, m: number, n: number, k: number,
    transA: boolean, transB: boolean, strideA: number, strideB: number,
  ): void;
  setThreads(n: number): void;
  getThreads(): number;
  config(): string;
}
export function loadNativeBlas(): NativeBlas | null;
/** where the built addon lives (it may not exist) */
export const addonFile: string;
