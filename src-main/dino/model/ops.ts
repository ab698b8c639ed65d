/**
 * The layers the ViT and head are built of, written so that wasm runs them fast (see TFJS-NOTES.md):
 * every dense input is 2-D [rows, in], and the dense gradient transposes explicitly and then calls
 * plain 2-D matMuls, the only matMul XNNPACK serves (the stock gradient uses transpose flags and
 * falls back to a scalar loop ~10x slower).
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

/** x [N, in] times a torch-layout weight [out, in], plus bias [out]: y = x W^T + b. */
const denseBias = tf.customGrad((...args: unknown[]) => {
  const [x, w, b, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
  save([x, w]);
  const value = tf.add(matMulWT(x, w), b) as tf.Tensor2D;
  return {
    value,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sx, sw] = saved as [tf.Tensor2D, tf.Tensor2D];
      const dy2 = dy as tf.Tensor2D;
      return [tf.matMul(dy2, sw), weightGrad(dy2, sx), tf.sum(dy2, 0)];
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

/** LayerNorm over the last axis, torch semantics (biased variance). */
export function layerNorm(x: tf.Tensor2D, w: tf.Tensor, b: tf.Tensor, eps = 1e-6): tf.Tensor2D {
  const mean = tf.mean(x, -1, true);
  const xc = tf.sub(x, mean);
  const variance = tf.mean(tf.square(xc), -1, true);
  return tf.add(tf.mul(tf.mul(xc, tf.rsqrt(tf.add(variance, eps))), w), b) as tf.Tensor2D;
}

/** Exact GELU, as nn.GELU(): 0.5 x (1 + erf(x / sqrt 2)). */
export function gelu<T extends tf.Tensor>(x: T): T {
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1)) as T;
}

/** F.normalize(x, dim=-1): x / max(||x||_2, eps). */
export function l2Normalize(x: tf.Tensor2D, eps = 1e-12): tf.Tensor2D {
  const norm = tf.sqrt(tf.sum(tf.square(x), -1, true));
  return tf.div(x, tf.maximum(norm, eps)) as tf.Tensor2D;
}
