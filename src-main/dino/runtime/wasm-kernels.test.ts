/** The faster wasm Slice / SplitV copy exactly what wasm's own kernels copy, for every rank and dtype used. */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './node/backend';
import { installWasmKernels, uninstallWasmKernels } from './wasm-kernels';

function both(f: () => tf.Tensor | tf.Tensor[]) {
  const run = () =>
    tf.tidy(() => {
      const r = f();
      return (Array.isArray(r) ? r : [r]).map((t) => ({ shape: t.shape, data: [...t.dataSync()] }));
    });
  uninstallWasmKernels();
  const ref = run();
  installWasmKernels();
  return { ref, ours: run() };
}

describe('wasm Slice / SplitV', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });
  afterAll(() => installWasmKernels());

  it.each([
    [[5], [1], [3]],
    [[4, 6], [1, 2], [2, 3]],
    [[4, 6], [1, 0], [2, 6]],
    [[2, 9, 7, 4], [0, 3, 0, 0], [2, 3, 7, 4]],
    [[2, 9, 7, 4], [1, 2, 3, 1], [1, 4, 2, 2]],
    [[3, 2, 2, 3, 2], [1, 0, 1, 0, 1], [2, 2, 1, 3, 1]],
    [[3, 4], [0, 0], [3, 4]],
    [[3, 4], [1, 1], [0, 2]],
  ] as [number[], number[], number[]][])('slices %j at %j size %j', (shape, begin, size) => {
    const before = tf.memory().numTensors;
    const n = shape.reduce((a, b) => a * b, 1);
    for (const dtype of ['float32', 'int32', 'bool'] as const) {
      const values = dtype === 'bool' ? Array.from({ length: n }, (_, i) => i % 3 === 0) : Array.from({ length: n }, (_, i) => i);
      const { ref, ours } = both(() => tf.slice(tf.tensor(values, shape, dtype), begin, size));
      expect(ours).toEqual(ref);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('splits along every axis like wasm', () => {
    for (const axis of [0, 1, 2, 3]) {
      const { ref, ours } = both(() => tf.split(tf.reshape(tf.range(0, 2 * 6 * 3 * 4), [2, 6, 3, 4]), axis === 1 ? [1, 2, 3] : 2 - (axis === 2 ? 1 : 0) || 1, axis));
      expect(ours).toEqual(ref);
    }
  });

  it('keeps gradients (slice and split are differentiated by kernel name)', () => {
    const { ref, ours } = both(() => tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.split(x, 3, 1)[1]!, tf.slice(x, [0, 0], [4, 2]))))(tf.reshape(tf.range(0, 24), [4, 6])));
    expect(ours).toEqual(ref);
  });
});
