/**
 * Position-embedding interpolation for crops whose patch grid differs from the trained one, as the
 * official interpolate_pos_encoding: F.interpolate(mode='bicubic', align_corners=False) with
 * scale_factor = (g + 0.1) / g0 (the +0.1 avoids a floating-point off-by-one in the output size;
 * it also shifts the sampling positions slightly, which we reproduce). tfjs has no bicubic resize, so
 * the interpolation is a fixed matrix M [gh*gw, g0h*g0w]: patchPos' = M x patchPos, one plain 2-D
 * matMul, differentiable with respect to pos_embed.
 */
import * as tf from '@tensorflow/tfjs-core';

const A = -0.75; // torch's bicubic coefficient (PIL uses -0.5)

function cubic1(x: number): number {
  return ((A + 2) * x - (A + 3)) * x * x + 1;
}
function cubic2(x: number): number {
  return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
}

/**
 * 1-D weights [dst, src] of torch's upsample_bicubic along one axis: source coordinate
 * (d + 0.5) / scale - 0.5 (no clamping for cubic), 4 taps at floor-1..floor+2 clamped to the border.
 */
export function bicubicWeights1d(src: number, dst: number, scaleFactor: number): Float64Array {
  const w = new Float64Array(dst * src);
  // torch computes 1/scale in double and the coordinates in float
  const inv = Math.fround(1 / scaleFactor);
  for (let d = 0; d < dst; d++) {
    const real = Math.fround(Math.fround(inv * Math.fround(d + 0.5)) - 0.5);
    const i0 = Math.floor(real);
    const t = Math.fround(real - i0);
    const c = [cubic2(t + 1), cubic1(t), cubic1(1 - t), cubic2(1 - t + 1)];
    for (let k = 0; k < 4; k++) {
      const s = Math.min(Math.max(i0 - 1 + k, 0), src - 1);
      w[d * src + s]! += c[k]!;
    }
  }
  return w;
}

/** The matrix mapping a g0h x g0w grid (row-major) to gh x gw, as the official code does. */
export function posEmbedMatrix(g0h: number, g0w: number, gh: number, gw: number): Float32Array {
  // official: scale_factor = ((gh + 0.1) / sqrt(N), (gw + 0.1) / sqrt(N)); grids are square there
  const wy = bicubicWeights1d(g0h, gh, (gh + 0.1) / g0h);
  const wx = bicubicWeights1d(g0w, gw, (gw + 0.1) / g0w);
  const m = new Float32Array(gh * gw * g0h * g0w);
  const cols = g0h * g0w;
  for (let i = 0; i < gh; i++) {
    for (let j = 0; j < gw; j++) {
      const row = (i * gw + j) * cols;
      for (let r = 0; r < g0h; r++) {
        const a = wy[i * g0h + r]!;
        if (a === 0) continue;
        for (let c = 0; c < g0w; c++) m[row + r * g0w + c] = a * wx[j * g0w + c]!;
      }
    }
  }
  return m;
}

// per backend instance: a GPU backend started again after its device was lost cannot read the old one's
const caches = new WeakMap<tf.KernelBackend, Map<string, tf.Tensor2D>>();

/** The cached interpolation matrix as a kept tensor (reused every step; never disposed by a tidy). */
export function posEmbedMatrixTensor(g0h: number, g0w: number, gh: number, gw: number): tf.Tensor2D {
  const key = `${g0h}x${g0w}->${gh}x${gw}`;
  let cache = caches.get(tf.backend());
  if (!cache) caches.set(tf.backend(), (cache = new Map()));
  let t = cache.get(key);
  if (!t) {
    t = tf.keep(tf.tensor2d(posEmbedMatrix(g0h, g0w, gh, gw), [gh * gw, g0h * g0w]));
    cache.set(key, t);
  }
  return t;
}

/**
 * pos_embed [1, 1 + g0*g0, D] -> [1, 1 + gh*gw, D] (unchanged when the grid is the trained one).
 */
export function interpolatePosEmbed(posEmbed: tf.Tensor, g0: number, gh: number, gw: number): tf.Tensor3D {
  if (gh === g0 && gw === g0) return posEmbed as tf.Tensor3D;
  const d = posEmbed.shape[2]!;
  const [cls, patch] = tf.split(posEmbed, [1, g0 * g0], 1);
  const m = posEmbedMatrixTensor(g0, g0, gh, gw);
  const moved = tf.reshape(tf.matMul(m, tf.reshape(patch!, [g0 * g0, d])), [1, gh * gw, d]);
  return tf.concat([cls!, moved], 1) as tf.Tensor3D;
}
