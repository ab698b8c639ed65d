/**
 * The end of a DINO step (per-parameter gradient clipping, AdamW, the EMA teacher) as plain loops over
 * each parameter's values in the wasm heap, written in place. As tfjs ops these are ~12 kernels per
 * parameter (~1200 a step for a 6-block ViT and its head), each a call across the engine and into
 * wasm on a few thousand floats: ~10 % of a cpu-narrow step went to them and their engine overhead.
 * The arithmetic is the ops path's, element by element (optimizer.ts), so either path gives the same
 * run up to float rounding.
 *
 * A buffer is written in place only where the tensor is its sole owner: tfjs shares buffers between
 * tensors (a clone, an assign, a variable made from a tensor), and writing a shared one would change
 * the others. A parameter whose buffer is shared takes the ops path for that step (that gives it a
 * buffer of its own).
 */
import * as tf from '@tensorflow/tfjs-core';
import { nativeKernelsActive } from './native-kernels';
import type { AdamW } from './optimizer';
import { isRegularized } from './optimizer';
import type { Params } from './vit';

/** Off: every parameter takes the ops path (tests and the benchmark compare both). */
export const inPlaceUpdate = { enabled: true };

/** The parts of tfjs-backend-wasm's BackendWasm used here (public methods of the class). */
interface WasmHeapBackend {
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
  refCount(dataId: tf.DataId): number;
}

/**
 * The wasm backend when it is the active one with the native matMul, else null (the ops path).
 * wasm's own matMul (XNNPACK) keeps each weight packed, cached by tensor id, until the tensor is
 * disposed: it would go on multiplying by a weight's old values after an in-place write (measured: the
 * second step's gradients off by ~2 % against PyTorch). OpenBLAS reads the heap on every call.
 */
export function wasmHeap(): WasmHeapBackend | null {
  if (tf.getBackend() !== 'wasm' || !nativeKernelsActive()) return null;
  const b = tf.backend() as unknown as Partial<WasmHeapBackend>;
  return typeof b.typedArrayFromHeap === 'function' && typeof b.refCount === 'function' ? (b as WasmHeapBackend) : null;
}

/** The tensor's values in the heap, to be written in place; null when its buffer is shared or not float32. */
function ownValues(heap: WasmHeapBackend, t: tf.Tensor): Float32Array | null {
  if (t.dtype !== 'float32' || t.isDisposed || heap.refCount(t.dataId) !== 1) return null;
  return heap.typedArrayFromHeap(t);
}

/**
 * clip_gradients (each gradient scaled by clip / (norm + 1e-6) where that is below 1; clip 0 = off)
 * and one AdamW step, in place. Returns the names it could not update in place (shared buffers);
 * their gradients are untouched and the caller updates them with the ops path.
 */
export function clipAndStepInPlace(
  heap: WasmHeapBackend,
  optimizer: AdamW,
  params: Params,
  grads: Map<string, tf.Tensor>,
  clip: number,
  lr: number,
  wd: number,
): string[] {
  const left: string[] = [];
  const { beta1, beta2, eps } = optimizer;
  for (const [name, grad] of grads) {
    const p = params.get(name);
    if (!p) throw new Error(`AdamW: gradient for unknown parameter ${name}`);
    const s = optimizer.ensure(name);
    // views are taken after ensure(): allocating moments may grow (and replace) the heap's buffer
    const pv = ownValues(heap, p);
    const mv = ownValues(heap, s.m);
    const vv = ownValues(heap, s.v);
    if (!pv || !mv || !vv || grad.dtype !== 'float32') {
      left.push(name);
      continue;
    }
    const g = heap.typedArrayFromHeap(grad);
    let coef = 1;
    if (clip > 0) {
      let sq = 0;
      for (let i = 0; i < g.length; i++) sq += g[i]! * g[i]!;
      coef = Math.min(clip / (Math.sqrt(sq) + 1e-6), 1);
    }
    s.step += 1;
    const bc1 = 1 - beta1 ** s.step;
    const bc2Sqrt = Math.sqrt(1 - beta2 ** s.step);
    const keep = 1 - lr * (isRegularized(name, p.shape) ? wd : 0);
    const stepSize = lr / bc1;
    for (let i = 0; i < pv.length; i++) {
      const gi = Math.fround(g[i]! * coef);
      const m = Math.fround(mv[i]! * beta1 + gi * (1 - beta1));
      const v = Math.fround(vv[i]! * beta2 + gi * gi * (1 - beta2));
      mv[i] = m;
      vv[i] = v;
      pv[i] = pv[i]! * keep - (m / (Math.sqrt(v) / bc2Sqrt + eps)) * stepSize;
    }
  }
  return left;
}

/**
 * teacher = m * teacher + (1 - m) * student in place, for the teacher parameters that own their
 * buffer and are not `skip`ped; returns the names left to the ops path.
 */
export function emaInPlace(heap: WasmHeapBackend, teacher: Params, student: Params, momentum: number, skip: (name: string) => boolean): string[] {
  const left: string[] = [];
  for (const [name, t] of teacher) {
    const s = student.get(name);
    if (!s) throw new Error(`EMA: student has no ${name}`);
    const tv = skip(name) ? null : ownValues(heap, t);
    if (!tv || s.dtype !== 'float32') {
      left.push(name);
      continue;
    }
    const sv = heap.typedArrayFromHeap(s);
    const rest = 1 - momentum;
    for (let i = 0; i < tv.length; i++) tv[i] = tv[i]! * momentum + sv[i]! * rest;
  }
  return left;
}
