/**
 * The DINO loss as main_dino.py's DINOLoss: the teacher's outputs for the 2 global crops are centred
 * and sharpened, softmax((t - C) / tau_t), and treated as constants; the student's outputs for every
 * crop go through log_softmax(s / tau_s); the loss is the cross-entropy -sum q log p averaged over the
 * batch and over every (teacher crop iq, student crop v) pair with v != iq. The centre C follows the
 * teacher's batch mean with momentum 0.9 (officially all-reduced across GPUs; here one process).
 */
import * as tf from '@tensorflow/tfjs-core';

/** Teacher targets [2B, K]: softmax((t - center) / temp), no gradient. */
export function teacherTargets(teacherOut: tf.Tensor2D, center: tf.Tensor, temp: number): tf.Tensor2D {
  return tf.tidy(() => tf.softmax(tf.div(tf.sub(teacherOut, center), temp), -1) as tf.Tensor2D);
}

/** Mean entropy of the teacher targets per row (nats): log K when uniform, 0 on one prototype. */
export function targetEntropy(teacherOut: tf.Tensor2D, center: tf.Tensor, temp: number): tf.Scalar {
  return tf.tidy(() => {
    const logp = tf.logSoftmax(tf.div(tf.sub(teacherOut, center), temp), -1);
    return tf.neg(tf.mean(tf.sum(tf.mul(tf.exp(logp), logp), -1)));
  });
}

/**
 * The loss, a scalar differentiable with respect to studentOut [nCrops*B, K] (crop-major rows);
 * targets [2B, K] from teacherTargets. Sum over pairs v != iq written as (sum over all v) - (v = iq)
 * so each log_softmax is computed once.
 *
 * Its gradient is written out: for crop v, d/ds_v of -sum q log softmax(s_v / tau) is
 * (softmax(s_v / tau) - q) / tau per pair (q sums to 1), so the rows of crop v get
 * (n_v p_v - sum over its partners q_iq) / (tau B nTerms), n_v the number of teacher views it is
 * paired with (1 for the globals, 2 for the locals). Autodiff would keep the scaled logits, the
 * log-softmax and the products with q on the tape; this keeps only p.
 */
export function dinoLoss(studentOut: tf.Tensor2D, targets: tf.Tensor2D, nCrops: number, studentTemp: number): tf.Scalar {
  const k = studentOut.shape[1];
  const b = studentOut.shape[0] / nCrops;
  if (!Number.isInteger(b) || targets.shape[0] !== 2 * b) {
    throw new Error(`dinoLoss: ${studentOut.shape[0]} student rows for ${nCrops} crops, ${targets.shape[0]} teacher rows`);
  }
  const nTerms = 2 * (nCrops - 1);
  const op = tf.customGrad((...args: unknown[]) => {
    const s = args[0] as tf.Tensor2D;
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const ls = tf.reshape(tf.logSoftmax(tf.div(s, studentTemp), -1), [nCrops, b, k]);
    const q = tf.reshape(targets, [2, b, k]);
    const allViews = tf.sum(tf.mul(q, tf.sum(ls, 0, true)));
    const sameView = tf.sum(tf.mul(q, tf.slice(ls, [0, 0, 0], [2, b, k])));
    save([tf.exp(ls)]);
    return {
      value: tf.div(tf.sub(sameView, allViews), b * nTerms) as tf.Scalar,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const p = saved[0]!;
          const q2 = tf.reshape(targets, [2, b, k]);
          const own = nCrops > 2 ? tf.concat([q2, tf.zeros([nCrops - 2, b, k])], 0) : q2;
          const partners = tf.sub(tf.sum(q2, 0, true), own);
          const nViews = tf.tensor3d(Array.from({ length: nCrops }, (_, v) => (v < 2 ? 1 : 2)), [nCrops, 1, 1]);
          const g = tf.mul(tf.sub(tf.mul(p, nViews), partners), tf.div(dy, studentTemp * b * nTerms));
          return [tf.reshape(g, [nCrops * b, k])];
        }),
    };
  });
  return op(studentOut) as tf.Scalar;
}

/** center = center * m + mean(teacherOut, 0) * (1 - m), in place. */
export function updateCenter(center: tf.Variable, teacherOut: tf.Tensor2D, momentum: number): void {
  tf.tidy(() => {
    center.assign(tf.add(tf.mul(center, momentum), tf.mul(tf.mean(teacherOut, 0, true), 1 - momentum)));
  });
}
