/**
 * Faster `Slice` and `SplitV` for the wasm backend, in plain JS (no addon needed). tfjs-backend-wasm
 * copies a 4-D slice one innermost row at a time through a new subarray per row: splitting the
 * attention's q, k, v ([B, 3H, T, hd] along axis 1) cost ~8 ms a call, ~5 % of a training step.
 * Here the trailing axes that are taken whole are merged, so a slice is a few large copies, done with
 * copyWithin inside wasm's heap (a memmove, no allocation). The values are copied unchanged.
 */
import * as tf from '@tensorflow/tfjs-core';

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  dataIdMap: { get(dataId: unknown): { memoryOffset: number } };
  wasm: { HEAPU8: Uint8Array };
}

let originals: tf.KernelConfig[] | null = null;

function bytesPer(dtype: tf.DataType): number {
  return dtype === 'bool' ? 1 : 4;
}

/** Copies x[begin : begin + size] into a new output; null when it must fall back (strings). */
function sliceInto(backend: WasmBackendLike, x: tf.TensorInfo, begin: number[], size: number[]): tf.TensorInfo | null {
  if (x.dtype === 'string' || x.dtype === 'complex64') return null;
  const shape = x.shape;
  const rank = shape.length;
  const out = backend.makeOutput(size, x.dtype);
  const n = size.reduce((a, b) => a * b, 1);
  if (n === 0) return out;
  // after makeOutput: allocating may grow (and replace) the heap's buffer
  const heap = backend.wasm.HEAPU8;
  const eb = bytesPer(x.dtype);
  const src = backend.dataIdMap.get(x.dataId).memoryOffset;
  const dst = backend.dataIdMap.get(out.dataId).memoryOffset;
  let last = -1;
  for (let i = 0; i < rank; i++) if (begin[i] !== 0 || size[i] !== shape[i]) last = i;
  if (last < 0) {
    heap.copyWithin(dst, src, src + n * eb);
    return out;
  }
  // element strides of x
  const strides = new Array<number>(rank);
  let s = 1;
  for (let i = rank - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  const row = size[last]! * strides[last]! * eb;
  const rowStart = begin[last]! * strides[last]!;
  const idx = new Array<number>(last).fill(0);
  let o = dst;
  for (;;) {
    let off = rowStart;
    for (let i = 0; i < last; i++) off += (begin[i]! + idx[i]!) * strides[i]!;
    const from = src + off * eb;
    heap.copyWithin(o, from, from + row);
    o += row;
    // odometer over the outer axes
    let i = last - 1;
    while (i >= 0 && ++idx[i]! === size[i]) idx[i--] = 0;
    if (i < 0) break;
  }
  return out;
}

/** Registers the faster Slice and SplitV for wasm (idempotent). */
export function installWasmKernels(): void {
  if (originals) return;
  const slice = tf.getKernel(tf.Slice, 'wasm');
  const split = tf.getKernel(tf.SplitV, 'wasm');
  if (!slice || !split) return;
  originals = [slice, split];
  tf.unregisterKernel(tf.Slice, 'wasm');
  tf.registerKernel({
    kernelName: tf.Slice,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { x } = args.inputs as { x: tf.TensorInfo };
      const { begin, size } = args.attrs as { begin: number | number[]; size: number | number[] };
      const [b, s] = tf.slice_util.parseSliceParams(x as tf.TensorInfo as tf.Tensor, begin, size) as [number[], number[]];
      return sliceInto(args.backend as unknown as WasmBackendLike, x, b, s) ?? slice.kernelFunc(args);
    },
  });
  tf.unregisterKernel(tf.SplitV, 'wasm');
  tf.registerKernel({
    kernelName: tf.SplitV,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { x } = args.inputs as { x: tf.TensorInfo };
      const { numOrSizeSplits, axis } = args.attrs as { numOrSizeSplits: number | number[]; axis: number };
      if (x.dtype === 'string' || x.dtype === 'complex64') return split.kernelFunc(args);
      const ax = tf.util.parseAxisParam(axis, x.shape)[0]!;
      const sizes = tf.backend_util.prepareSplitSize(x as tf.TensorInfo as tf.Tensor, numOrSizeSplits, ax);
      const begin = new Array<number>(x.shape.length).fill(0);
      return sizes.map((n) => {
        const size = [...x.shape];
        size[ax] = n;
        const out = sliceInto(args.backend as unknown as WasmBackendLike, x, begin, size)!;
        begin[ax]! += n;
        return out;
      });
    },
  });
}

/** Puts wasm's own Slice and SplitV back (tests compare both). */
export function uninstallWasmKernels(): void {
  if (!originals) return;
  for (const k of originals) {
    tf.unregisterKernel(k.kernelName, 'wasm');
    tf.registerKernel(k);
  }
  originals = null;
}
