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
 */
export function dinoLoss(studentOut: tf.Tensor2D, targets: tf.Tensor2D, nCrops: number, studentTemp: number): tf.Scalar {
  return tf.tidy(() => {
    const k = studentOut.shape[1];
    const b = studentOut.shape[0] / nCrops;
    if (!Number.isInteger(b) || targets.shape[0] !== 2 * b) {
      throw new Error(`dinoLoss: ${studentOut.shape[0]} student rows for ${nCrops} crops, ${targets.shape[0]} teacher rows`);
    }
    const ls = tf.reshape(tf.logSoftmax(tf.div(studentOut, studentTemp), -1), [nCrops, b, k]);
    const q = tf.reshape(targets, [2, b, k]);
    const allViews = tf.sum(tf.mul(q, tf.sum(ls, 0, true)));
    const sameView = tf.sum(tf.mul(q, tf.slice(ls, [0, 0, 0], [2, b, k])));
    const nTerms = 2 * (nCrops - 1);
    return tf.div(tf.sub(sameView, allViews), b * nTerms) as tf.Scalar;
  });
}

/** center = center * m + mean(teacherOut, 0) * (1 - m), in place. */
export function updateCenter(center: tf.Variable, teacherOut: tf.Tensor2D, momentum: number): void {
  tf.tidy(() => {
    center.assign(tf.add(tf.mul(center, momentum), tf.mul(tf.mean(teacherOut, 0, true), 1 - momentum)));
  });
}
