/**
 * DropPath of vision_transformer.py (stochastic depth): in training, each sample skips a residual
 * branch with probability `rate`, and the kept ones are scaled by 1 / (1 - rate).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../rng';

/**
 * The factors for a block's two branches (attention, MLP) over tokens [b * t, D]: [b * t, 1], one value
 * per sample, 0 or 1 / (1 - rate). None at rate 0 (and no draw from the RNG).
 */
export function dropPathMasks(rate: number, b: number, t: number, rng: Rng): [tf.Tensor, tf.Tensor] | undefined {
  if (rate <= 0) return undefined;
  const keep = 1 - rate;
  const mask = () => {
    const m = new Float32Array(b * t);
    for (let s = 0; s < b; s++) {
      // floor(keep + U[0, 1)) is 1 with probability keep, as drop_path's random_tensor
      const v = Math.floor(keep + rng.next()) / keep;
      m.fill(v, s * t, (s + 1) * t);
    }
    return tf.tensor2d(m, [b * t, 1]);
  };
  return [mask(), mask()];
}
