import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../runtime/node/backend';
import { dinoLoss } from './loss';
import { maxRelErr } from '../../testing/test-errors';

/** The loss as main_dino.DINOLoss writes it, pair by pair, differentiated by tfjs. */
function pairwiseLoss(studentOut: tf.Tensor2D, targets: tf.Tensor2D, nCrops: number, temp: number): tf.Scalar {
  const b = studentOut.shape[0] / nCrops;
  const s = tf.split(tf.logSoftmax(tf.div(studentOut, temp), -1), nCrops, 0);
  const q = tf.split(targets, 2, 0);
  let total: tf.Tensor = tf.scalar(0);
  let n = 0;
  for (let iq = 0; iq < 2; iq++) {
    for (let v = 0; v < nCrops; v++) {
      if (v === iq) continue;
      total = tf.add(total, tf.div(tf.neg(tf.sum(tf.mul(q[iq]!, s[v]!))), b));
      n++;
    }
  }
  return tf.div(total, n) as tf.Scalar;
}

beforeAll(async () => {
  await initBackend();
});

describe('dinoLoss', () => {
  for (const nCrops of [2, 5]) {
    it(`has the value and the gradient of the pairwise definition (${nCrops} crops)`, () => {
      const b = 3;
      const k = 17;
      const s = tf.randomNormal([nCrops * b, k], 0, 1, 'float32', 1) as tf.Tensor2D;
      const targets = tf.softmax(tf.randomNormal([2 * b, k], 0, 2, 'float32', 2)) as tf.Tensor2D;
      const ours = tf.valueAndGrad((x: tf.Tensor) => dinoLoss(x as tf.Tensor2D, targets, nCrops, 0.1))(s);
      const ref = tf.valueAndGrad((x: tf.Tensor) => pairwiseLoss(x as tf.Tensor2D, targets, nCrops, 0.1))(s);
      expect(Math.abs(ours.value.dataSync()[0]! - ref.value.dataSync()[0]!)).toBeLessThan(1e-5);
      expect(maxRelErr(ours.grad.dataSync(), ref.grad.dataSync())).toBeLessThan(1e-5);
      tf.dispose([s, targets, ours.value, ours.grad, ref.value, ref.grad]);
    });
  }

  it('leaves no tensor behind', () => {
    const s = tf.randomNormal([8, 5]) as tf.Tensor2D;
    const targets = tf.softmax(tf.randomNormal([4, 5])) as tf.Tensor2D;
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      const r = tf.valueAndGrad((x: tf.Tensor) => dinoLoss(x as tf.Tensor2D, targets, 4, 0.1))(s);
      tf.dispose([r.value, r.grad]);
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([s, targets]);
  });
});
