/**
 * The native kernels (native/blas addon over OpenBLAS) against wasm's own kernels: every matMul
 * layout the engine uses (2-D, batched, transpose flags, a broadcast weight), erf, exp, gradients
 * through the replaced kernels, the backend description, and no leaked tensors. Skipped, saying so,
 * where the addon is not built; the PyTorch fixtures run on this path in fixtures.test.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activeBackend, initBackend } from './backend';
import { installNativeKernels, loadNativeBlas, nativeKernelsActive, transposeFlagsFast, uninstallNativeKernels } from './native-kernels';
import { maxRelErr } from '../../../testing/test-errors';

const native = loadNativeBlas();
const why = 'native BLAS addon not built or no OpenBLAS found (npm run build:native): native kernels untested';

/** Runs f on wasm's own kernels and on the native ones; returns both results' data and shapes. */
function bothPaths(f: () => tf.Tensor | tf.Tensor[]) {
  const run = () =>
    tf.tidy(() => {
      const r = f();
      return (Array.isArray(r) ? r : [r]).map((t) => ({ shape: t.shape, data: t.dataSync().slice() }));
    });
  uninstallNativeKernels();
  const wasm = run();
  installNativeKernels();
  const nat = run();
  return { wasm, nat };
}

describe.skipIf(!native)('native kernels (OpenBLAS via native/blas)', () => {
  beforeAll(async () => {
    delete process.env.DINO_NATIVE;
    await initBackend('wasm');
  });
  afterAll(() => {
    installNativeKernels();
  });

  it('are active by default on wasm and say so', () => {
    expect(nativeKernelsActive()).not.toBeNull();
    expect(activeBackend()!.description).toMatch(/native BLAS \(OpenBLAS/);
    expect(transposeFlagsFast()).toBe(true);
  });

  it.each([
    [[5, 7], [7, 3], false, false],
    [[7, 5], [7, 3], true, false],
    [[5, 7], [3, 7], false, true],
    [[7, 5], [3, 7], true, true],
    [[6, 37, 16], [6, 37, 16], false, true],
    [[6, 37, 37], [6, 37, 16], false, false],
    [[6, 37, 37], [6, 37, 16], true, false],
    [[4, 5, 7], [7, 3], false, false],
    [[5, 7], [2, 3, 7, 3], false, false],
    [[2, 3, 5, 7], [2, 3, 7, 4], false, false],
    [[2, 1, 5, 7], [1, 3, 7, 4], false, false],
    [[1, 1, 5, 7], [3, 7, 4], false, false],
    [[3, 5, 7], [1, 1, 4, 7], false, true],
  ] as [number[], number[], boolean, boolean][])('matMul %j x %j (transpose %s, %s) equals wasm', (sa, sb, ta, tb) => {
    const before = tf.memory().numTensors;
    const { wasm, nat } = bothPaths(() => {
      const a = tf.randomNormal(sa, 0, 1, 'float32', 1);
      const b = tf.randomNormal(sb, 0, 1, 'float32', 2);
      return tf.matMul(a, b, ta, tb);
    });
    expect(nat[0]!.shape).toEqual(wasm[0]!.shape);
    expect(maxRelErr(nat[0]!.data, wasm[0]!.data)).toBeLessThan(1e-5);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('gives zeros for an empty inner dimension', () => {
    installNativeKernels();
    const c = tf.tidy(() => tf.matMul(tf.ones([3, 0]), tf.ones([0, 4])).dataSync().slice());
    expect([...c]).toEqual(new Array(12).fill(0));
  });

  it('rejects mismatched inner dimensions', () => {
    installNativeKernels();
    expect(() => tf.tidy(() => tf.matMul(tf.ones([2, 3]), tf.ones([4, 2])))).toThrow(/inner shapes/);
  });

  it('computes erf and exp (and the exact GELU) like wasm', () => {
    const { wasm, nat } = bothPaths(() => {
      const x = tf.linspace(-7, 7, 70_001);
      return [tf.erf(x), tf.exp(tf.neg(tf.square(x))), tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1))];
    });
    for (let i = 0; i < 3; i++) {
      let d = 0;
      for (let j = 0; j < wasm[i]!.data.length; j++) d = Math.max(d, Math.abs(nat[i]!.data[j]! - wasm[i]!.data[j]!));
      expect(d).toBeLessThan(2e-6);
    }
  });

  it.each([
    [[37, 50], [0], false],
    [[37, 50], 0, true],
    [[4, 9, 6], [0, 1], false],
    [[4, 9, 6], [1, 0], true],
    [[4, 9, 6], [1], false],
    [[37, 50], [-1], false],
    [[37, 50], [0, 1], false],
    [[37, 50], [0, 1], true],
    [[2144, 192], -1, true],
    [[2144, 192], 1, false],
    [[4, 9, 6], [1, 2], false],
    [[4, 9, 6], [2, 1], true],
    [[4, 9, 7], -1, false],
    [[4, 9, 5], [0, 2], false],
    [[5, 3], [-1], true],
    [[1000], 0, false],
    [[3, 0], -1, false],
  ] as [number[], number | number[], boolean][])('sums and averages %j over axes %j (keepDims %s) like wasm', (shape, axis, keepDims) => {
    const before = tf.memory().numTensors;
    const { wasm, nat } = bothPaths(() => {
      const x = tf.add(tf.randomNormal(shape, 0, 1, 'float32', 7), 0.5);
      // the largest sum (mean) of magnitudes: what any summation order's error is relative to
      const mags = [tf.max(tf.sum(tf.abs(x), axis)), tf.max(tf.mean(tf.abs(x), axis))];
      return [tf.sum(x, axis, keepDims), tf.mean(x, axis, keepDims), ...mags];
    });
    for (let i = 0; i < 2; i++) {
      expect(nat[i]!.shape).toEqual(wasm[i]!.shape);
      const mag = wasm[2 + i]!.data[0]!;
      let d = 0;
      for (let j = 0; j < wasm[i]!.data.length; j++) d = Math.max(d, Math.abs(nat[i]!.data[j]! - wasm[i]!.data[j]!));
      expect(d / (mag || 1)).toBeLessThan(1e-6);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('computes exp within 1 ulp of wasm, also beyond float range and for NaN', () => {
    const vals = [NaN, Infinity, -Infinity, -200, -103, -87.5, -87, 0, 1e-30, 88, 88.7, 89, 100];
    const { wasm, nat } = bothPaths(() => tf.exp(tf.concat([tf.tensor1d(vals), tf.linspace(-90, 90, 200_001)])));
    const ulp = (x: number) => {
      const f = new Float32Array([x]);
      const i = new Int32Array(f.buffer)[0]!;
      return i < 0 ? -2147483648 - i : i;
    };
    let worst = 0;
    for (let j = 0; j < wasm[0]!.data.length; j++) {
      const w = wasm[0]!.data[j]!;
      const v = nat[0]!.data[j]!;
      if (Number.isNaN(w)) expect(v).toBeNaN();
      else worst = Math.max(worst, Math.abs(ulp(v) - ulp(w)));
    }
    expect(worst).toBeLessThanOrEqual(1);
  });

  it('splits erf and exp of very large arrays over threads, and keeps NaN and infinities', () => {
    const { wasm, nat } = bothPaths(() => {
      // over 4M elements: the native side splits the work over threads
      const x = tf.concat([tf.tensor1d([NaN, Infinity, -Infinity]), tf.tile(tf.linspace(-9, 9, 4099), [1024])]);
      return [tf.erf(x), tf.exp(x)];
    });
    for (let i = 0; i < 2; i++) {
      let d = 0;
      for (let j = 0; j < wasm[i]!.data.length; j++) {
        const w = wasm[i]!.data[j]!;
        const v = nat[i]!.data[j]!;
        if (!Number.isFinite(w)) expect(v).toBe(w);
        else d = Math.max(d, Math.abs(v - w) / Math.max(1, Math.abs(w)));
      }
      expect(d).toBeLessThan(2e-6);
    }
  });

  it('gives the same gradients through transposed and batched matMuls', () => {
    const { wasm, nat } = bothPaths(() => {
      const a = tf.randomNormal([4, 9, 6], 0, 1, 'float32', 4);
      const b = tf.randomNormal([4, 9, 6], 0, 1, 'float32', 5);
      const w = tf.randomNormal([8, 6], 0, 1, 'float32', 6);
      const f = (x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) =>
        tf.sum(tf.mul(tf.matMul(tf.softmax(tf.matMul(x, y, false, true)), y), tf.slice(tf.reshape(tf.matMul(tf.reshape(x, [36, 6]), z, false, true), [4, 9, 8]), [0, 0, 0], [4, 9, 6])));
      return tf.grads(f)([a, b, w]);
    });
    for (let i = 0; i < 3; i++) expect(maxRelErr(nat[i]!.data, wasm[i]!.data)).toBeLessThan(1e-5);
  });
});

describe.skipIf(Boolean(native))('native kernels unavailable', () => {
  it(`runs on wasm alone: ${why}`, async () => {
    await initBackend('wasm');
    expect(installNativeKernels()).toBeNull();
    expect(activeBackend()!.description).not.toMatch(/native BLAS/);
  });
});
