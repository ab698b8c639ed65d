/**
 * Native kernels for the wasm backend: `BatchMatMul` (and `Erf`, `Exp`, `Sum` over leading or
 * trailing axes, `Mean` over trailing axes) re-registered for `wasm` so that every
 * matMul (2-D dense layers and attention's batched 3-D products, with or without transpose flags)
 * runs in the system's OpenBLAS through the optional addon in native/blas, reading and writing the
 * tensors in place in wasm's heap. wasm's own matMul reaches ~15 GFLOP/s on its fast path and ~1 on
 * the rest; OpenBLAS ~100 per core. Gradients are registered per kernel name, not per backend, so
 * the stock BatchMatMul gradient and the custom gradients in model/ops.ts / model/block-backward.ts still apply.
 * Where the addon is not built (or finds no OpenBLAS) nothing is registered and wasm runs as before.
 */
import * as tf from '@tensorflow/tfjs-core';
import { cpus } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setNativeMatMul } from '../matmul-flags';

export { transposeFlagsFast } from '../matmul-flags';

/** The addon's interface (native/blas/index.d.ts). */
interface NativeBlas {
  library: string;
  gemm(
    a: Float32Array,
    b: Float32Array,
    c: Float32Array,
    batch: number,
    m: number,
    n: number,
    k: number,
    transA: boolean,
    transB: boolean,
    strideA: number,
    strideB: number,
  ): void;
  /** y = f(x) elementwise: op 0 erf, 1 exp */
  unary(op: 0 | 1, x: Float32Array, y: Float32Array): void;
  /** y[j] = sum_i x[i, j] over a row-major [rows, cols] */
  colsum(x: Float32Array, y: Float32Array, rows: number, cols: number): void;
  /** y[i] = sum_j x[i, j] over a row-major [rows, cols], divided by cols when `mean` (absent in older builds) */
  rowsum?(x: Float32Array, y: Float32Array, rows: number, cols: number, mean: boolean): void;
  setThreads(n: number): void;
  getThreads(): number;
  config(): string;
}

/** The parts of tfjs-backend-wasm's BackendWasm this kernel uses (public methods of the class). */
interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
}

export interface NativeKernelsInfo {
  /** shared library in use, e.g. libopenblas.so.0 */
  library: string;
  /** OpenBLAS's build description */
  config: string;
  threads: number;
}

let blas: NativeBlas | null | undefined;
let installed: { originals: tf.KernelConfig[]; info: NativeKernelsInfo } | null = null;

// native/blas at the repository's (or the app's) root: two folders up from out/main in the build, four
// from this file's folder in the sources (a path the import rewriting cannot see: keep it in step)
const addonDir = join(dirname(fileURLToPath(import.meta.url)), ...(import.meta.url.endsWith('.ts') ? ['..', '..', '..', '..'] : ['..', '..']), 'native', 'blas');

/** The addon, or null when it is not built, fails to load, or finds no OpenBLAS. Cached. */
export function loadNativeBlas(): NativeBlas | null {
  if (blas !== undefined) return blas;
  blas = null;
  try {
    // the built .node file is loaded directly (not via native/blas/index.js) so bundlers need not see it
    const req = createRequire(import.meta.url);
    const addon = req(join(addonDir, 'build', 'Release', 'dino_blas.node')) as Omit<NativeBlas, 'library'> & {
      init(paths: string[]): string | null;
    };
    const library = addon.init(process.env.DINO_BLAS_LIB ? [process.env.DINO_BLAS_LIB] : []);
    // N-API methods are non-enumerable: name them rather than spread
    if (library) {
      blas = {
        library,
        gemm: addon.gemm,
        unary: addon.unary,
        colsum: addon.colsum,
        rowsum: addon.rowsum,
        setThreads: addon.setThreads,
        getThreads: addon.getThreads,
        config: addon.config,
      };
    }
  } catch {
    blas = null;
  }
  return blas;
}

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function makeKernel(native: NativeBlas, original: tf.KernelConfig): tf.KernelFunc {
  return (args) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    const backend = args.backend as unknown as WasmBackendLike;
    const ra = a.shape.length;
    const rb = b.shape.length;
    const batchA = sizeOf(a.shape.slice(0, -2));
    const batchB = sizeOf(b.shape.slice(0, -2));
    const sameOuter = ra === rb && a.shape.slice(0, -2).every((d, i) => d === b.shape[i]);
    // one side a single matrix broadcast over the other's batch, or equal batch dims; anything else
    // (partial broadcasting, non-float) goes to wasm's own kernel
    const simple = sameOuter || batchA === 1 || batchB === 1;
    if (a.dtype !== 'float32' || b.dtype !== 'float32' || ra < 2 || rb < 2 || !simple) {
      return original.kernelFunc(args);
    }
    const m = transposeA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
    const k = transposeA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
    const kb = transposeB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
    const n = transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
    if (k !== kb) {
      throw new Error(
        `Error in matMul: inner shapes (${k}) and (${kb}) of Tensors with shapes ${a.shape} and ${b.shape} and transposeA=${transposeA} and transposeB=${transposeB} must match.`,
      );
    }
    // e.g. [1, 1, m, k] x [3, k, n] -> [1, 3, m, n], as tfjs broadcasts
    const outer = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
    const batch = Math.max(batchA, batchB);
    // the output first: allocating can grow wasm's memory and detach earlier heap views
    const out = backend.makeOutput([...outer, m, n], 'float32');
    const av = backend.typedArrayFromHeap(a);
    const bv = backend.typedArrayFromHeap(b);
    const cv = backend.typedArrayFromHeap(out);
    native.gemm(av, bv, cv, batch, m, n, k, transposeA, transposeB, batchA === 1 ? 0 : m * k, batchB === 1 ? 0 : k * n);
    return out;
  };
}

/** Erf and Exp: wasm computes them with scalar libm calls (exact GELU's erf was ~12 % of a step). */
function makeUnary(native: NativeBlas, op: 0 | 1, original: tf.KernelConfig): tf.KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    if (x.dtype !== 'float32') return original.kernelFunc(args);
    const backend = args.backend as unknown as WasmBackendLike;
    const out = backend.makeOutput([...x.shape], 'float32');
    native.unary(op, backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(out));
    return out;
  };
}

/**
 * Sum over leading axes (bias and LayerNorm gradients sum a [rows, cols] gradient over its rows):
 * wasm transposes the reduced axes to the end first. Sum and Mean over trailing axes (LayerNorm's
 * means, the loss's sums): wasm adds one element at a time; eight partial sums here. Other
 * reductions go to wasm's kernel.
 */
function makeReduce(native: NativeBlas, mean: boolean, original: tf.KernelConfig): tf.KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean };
    const rank = x.shape.length;
    const axes = (Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + rank : a)).sort((p, q) => p - q);
    if (x.dtype !== 'float32' || axes.length === 0 || new Set(axes).size !== axes.length) return original.kernelFunc(args);
    const leading = !mean && axes.length < rank && axes.every((a, i) => a === i);
    const trailing = native.rowsum !== undefined && axes.every((a, i) => a === rank - axes.length + i);
    if (!leading && !trailing) return original.kernelFunc(args);
    const reduced = new Set(axes);
    const outShape = keepDims ? x.shape.map((d, i) => (reduced.has(i) ? 1 : d)) : x.shape.filter((_, i) => !reduced.has(i));
    const backend = args.backend as unknown as WasmBackendLike;
    if (leading) {
      const kept = x.shape.slice(axes.length);
      const out = backend.makeOutput(outShape, 'float32');
      native.colsum(backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(out), sizeOf(x.shape.slice(0, axes.length)), sizeOf(kept));
      return out;
    }
    const cols = sizeOf(x.shape.slice(rank - axes.length));
    if (cols === 0) return original.kernelFunc(args);
    const out = backend.makeOutput(outShape, 'float32');
    native.rowsum!(backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(out), sizeOf(x.shape.slice(0, rank - axes.length)), cols, mean);
    return out;
  };
}

/**
 * Registers the native BatchMatMul for the wasm backend (idempotent). Returns what is in use, or
 * null when the addon is unavailable. `threads` defaults to DINO_BLAS_THREADS or the core count:
 * the JS thread waits during a matMul, so OpenBLAS may use every core.
 */
export function installNativeKernels(threads?: number): NativeKernelsInfo | null {
  if (installed) return installed.info;
  const native = loadNativeBlas();
  if (!native) return null;
  const mm = tf.getKernel(tf.BatchMatMul, 'wasm');
  const erf = tf.getKernel(tf.Erf, 'wasm');
  const exp = tf.getKernel(tf.Exp, 'wasm');
  const sum = tf.getKernel(tf.Sum, 'wasm');
  const mean = tf.getKernel(tf.Mean, 'wasm');
  if (!mm || !erf || !exp || !sum || !mean) return null;
  const n = threads ?? (Number(process.env.DINO_BLAS_THREADS) || cpus().length || 1);
  native.setThreads(n);
  const replace = (original: tf.KernelConfig, kernelFunc: tf.KernelFunc) => {
    tf.unregisterKernel(original.kernelName, 'wasm');
    tf.registerKernel({ kernelName: original.kernelName, backendName: 'wasm', kernelFunc });
  };
  replace(mm, makeKernel(native, mm));
  replace(erf, makeUnary(native, 0, erf));
  replace(exp, makeUnary(native, 1, exp));
  replace(sum, makeReduce(native, false, sum));
  replace(mean, makeReduce(native, true, mean));
  installed = { originals: [mm, erf, exp, sum, mean], info: { library: native.library, config: native.config(), threads: native.getThreads() } };
  setNativeMatMul(true);
  return installed.info;
}

/** Puts wasm's own BatchMatMul back (benchmarks compare both paths in one process). */
export function uninstallNativeKernels(): void {
  if (!installed) return;
  for (const k of installed.originals) {
    tf.unregisterKernel(k.kernelName, 'wasm');
    tf.registerKernel(k);
  }
  installed = null;
  setNativeMatMul(false);
}

/** What is registered now, or null while wasm's own kernels run. */
export function nativeKernelsActive(): NativeKernelsInfo | null {
  return installed?.info ?? null;
}

/** Sets OpenBLAS's thread count (benchmarks). */
export function setNativeThreads(n: number): void {
  const native = loadNativeBlas();
  if (!native) return;
  native.setThreads(n);
  if (installed) installed.info.threads = native.getThreads();
}
