/**
 * The layers the ViT and head are built of, written so that wasm runs them fast (see TFJS-NOTES.md):
 * every dense input is 2-D [rows, in], and the dense gradient transposes explicitly and then calls
 * plain 2-D matMuls, the only matMul XNNPACK serves (the stock gradient uses transpose flags and
 * falls back to a scalar loop ~10x slower). Each layer's backward is written out beside it, for the
 * block that differentiates itself (block-backward.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { transposeFlagsFast } from '../runtime/matmul-flags';

/**
 * dW = dy^T x in torch layout [out, in]. Transposing an activation costs as much as a small matMul on
 * wasm, so transpose the narrower one: dy [N, out] when out <= in, else x [N, in] (then the small
 * weight-sized result).
 */
export function weightGrad(dy: tf.Tensor2D, x: tf.Tensor2D): tf.Tensor2D {
  // native BLAS reads the transposed operand in place
  if (transposeFlagsFast()) return tf.matMul(dy, x, true, false);
  if (dy.shape[1] <= x.shape[1]) return tf.matMul(tf.transpose(dy), x);
  return tf.transpose(tf.matMul(tf.transpose(x), dy));
}

/** x W^T: a transpose flag on the native path, else an explicit transpose of the (small) weight. */
export function matMulWT(x: tf.Tensor2D, w: tf.Tensor): tf.Tensor2D {
  return (transposeFlagsFast() ? tf.matMul(x, w as tf.Tensor2D, false, true) : tf.matMul(x, tf.transpose(w))) as tf.Tensor2D;
}

/** The gradients of y = x W^T + b: [dx, dW, db]. */
export function denseBackward(dy: tf.Tensor2D, x: tf.Tensor2D, w: tf.Tensor): [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D] {
  return [tf.matMul(dy, w as tf.Tensor2D), weightGrad(dy, x), tf.sum(dy, 0)];
}

/** x [N, in] times a torch-layout weight [out, in], plus bias [out]: y = x W^T + b. */
const denseBias = tf.customGrad((...args: unknown[]) => {
  const [x, w, b, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
  save([x, w]);
  const value = tf.add(matMulWT(x, w), b) as tf.Tensor2D;
  return {
    value,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sx, sw] = saved as [tf.Tensor2D, tf.Tensor2D];
      return denseBackward(dy as tf.Tensor2D, sx, sw);
    },
  };
});

const denseNoBias = tf.customGrad((...args: unknown[]) => {
  const [x, w, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
  save([x, w]);
  const value = matMulWT(x, w);
  return {
    value,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sx, sw] = saved as [tf.Tensor2D, tf.Tensor2D];
      const dy2 = dy as tf.Tensor2D;
      return [tf.matMul(dy2, sw), weightGrad(dy2, sx)];
    },
  };
});

/** torch.nn.Linear on a 2-D input: weight [out, in] (torch layout), optional bias [out]. */
export function dense(x: tf.Tensor2D, w: tf.Tensor, b?: tf.Tensor): tf.Tensor2D {
  if (x.rank !== 2) throw new Error(`dense: input must be 2-D, got rank ${x.rank}`);
  return (b ? denseBias(x, w, b) : denseNoBias(x, w)) as tf.Tensor2D;
}

/** LayerNorm's output and what its backward reads: the normalised input and 1 / std per row. */
export interface LayerNormParts {
  xhat: tf.Tensor2D;
  rstd: tf.Tensor2D;
  y: tf.Tensor2D;
}

/** LayerNorm over the last axis, torch semantics (biased variance), with its intermediates. */
export function layerNormParts(x: tf.Tensor2D, w: tf.Tensor, b: tf.Tensor, eps = 1e-6): LayerNormParts {
  const xc = tf.sub(x, tf.mean(x, -1, true));
  const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(xc), -1, true), eps)) as tf.Tensor2D;
  const xhat = tf.mul(xc, rstd) as tf.Tensor2D;
  return { xhat, rstd, y: tf.add(tf.mul(xhat, w), b) as tf.Tensor2D };
}

/** LayerNorm over the last axis, torch semantics (biased variance). */
export function layerNorm(x: tf.Tensor2D, w: tf.Tensor, b: tf.Tensor, eps = 1e-6): tf.Tensor2D {
  return layerNormParts(x, w, b, eps).y;
}

/** LayerNorm's gradients from its intermediates: [dx, dw, db]. */
export function layerNormBackward(dy: tf.Tensor2D, f: LayerNormParts, w: tf.Tensor): [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D] {
  const dw = tf.sum(tf.mul(dy, f.xhat), 0) as tf.Tensor1D;
  const db = tf.sum(dy, 0) as tf.Tensor1D;
  const dxhat = tf.mul(dy, w);
  const dx = tf.mul(
    f.rstd,
    tf.sub(tf.sub(dxhat, tf.mean(dxhat, -1, true)), tf.mul(f.xhat, tf.mean(tf.mul(dxhat, f.xhat), -1, true))),
  ) as tf.Tensor2D;
  return [dx, dw, db];
}

/** Exact GELU, as nn.GELU(): x Phi(x), with the normal CDF Phi(x) = (1 + erf(x / sqrt 2)) / 2 kept for the backward. */
export function geluParts<T extends tf.Tensor>(x: T): { cdf: T; y: T } {
  const cdf = tf.mul(tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1), 0.5) as T;
  return { cdf, y: tf.mul(x, cdf) as T };
}

/** Exact GELU, as nn.GELU(): 0.5 x (1 + erf(x / sqrt 2)). */
export function gelu<T extends tf.Tensor>(x: T): T {
  return geluParts(x).y;
}

/** d gelu(x) / dx = Phi(x) + x phi(x), times dy (erf, the costliest elementwise op, is not run again). */
export function geluBackward<T extends tf.Tensor>(dy: T, x: T, cdf: T): T {
  const pdf = tf.mul(tf.exp(tf.mul(tf.square(x), -0.5)), 1 / Math.sqrt(2 * Math.PI));
  return tf.mul(dy, tf.add(cdf, tf.mul(x, pdf))) as T;
}

/** F.normalize(x, dim=-1): x / max(||x||_2, eps). */
export function l2Normalize(x: tf.Tensor2D, eps = 1e-12): tf.Tensor2D {
  const norm = tf.sqrt(tf.sum(tf.square(x), -1, true));
  return tf.div(x, tf.maximum(norm, eps)) as tf.Tensor2D;
}
