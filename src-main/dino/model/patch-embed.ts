/**
 * PatchEmbed of vision_transformer.py: a conv of 3 -> D channels with kernel and stride p, computed
 * as patchify + one 2-D matMul (the same function; a 2-D matMul is wasm's fast path). Images are NHWC.
 */
import * as tf from '@tensorflow/tfjs-core';
import { dense } from './ops';

/**
 * Images [B, H, W, 3] -> patch tokens [B, gh * gw, D] (row-major over the grid), with the grid. A
 * border that fills no whole patch is dropped, as the strided conv drops it.
 * weight: the conv's [D, 3, p, p] (PyTorch layout), bias [D].
 */
export function patchEmbed(x: tf.Tensor4D, weight: tf.Tensor, bias: tf.Tensor, ps: number): { tokens: tf.Tensor3D; gh: number; gw: number } {
  const [b, h, w] = x.shape;
  const gh = Math.floor(h / ps);
  const gw = Math.floor(w / ps);
  const d = weight.shape[0]!;
  // a stride-p conv = each p x p x 3 patch flattened times the weight; the conv weight [D, 3, p, p]
  // is permuted to [D, p, p, 3] to match NHWC patches (a rank-3 transpose of the small weight)
  const xs = h === gh * ps && w === gw * ps ? x : tf.slice(x, [0, 0, 0, 0], [b, gh * ps, gw * ps, 3]);
  // [b*gh, p, gw, p*3] -> [b*gh, gw, p, p*3]: the patchify as a rank-4 transpose (fast on wasm)
  const patches = tf.reshape(tf.transpose(tf.reshape(xs, [b * gh, ps, gw, ps * 3]), [0, 2, 1, 3]), [b * gh * gw, ps * ps * 3]) as tf.Tensor2D;
  const wconv = tf.reshape(tf.transpose(tf.reshape(weight, [d, 3, ps * ps]), [0, 2, 1]), [d, ps * ps * 3]);
  return { tokens: tf.reshape(dense(patches, wconv, bias), [b, gh * gw, d]), gh, gw };
}
