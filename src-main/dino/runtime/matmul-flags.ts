/**
 * Whether matMul's transpose flags are free on the active backend: true while the native BLAS
 * BatchMatMul (node/native-kernels.ts, Node only) serves wasm. Kept apart from the addon's loader so that
 * the model code (model/ops.ts) needs no Node: the Electron GPU window's page imports it.
 */
import * as tf from '@tensorflow/tfjs-core';

let nativeMatMul = false;

/** native-kernels.ts says when its BatchMatMul is registered for wasm, and when it is taken away. */
export function setNativeMatMul(on: boolean): void {
  nativeMatMul = on;
}

/**
 * True while BatchMatMul runs natively on the active backend: transpose flags then cost nothing, so
 * the dense layers pass them instead of transposing explicitly (which wasm's own kernel needs).
 */
export function transposeFlagsFast(): boolean {
  return nativeMatMul && tf.getBackend() === 'wasm';
}
