/** The kernel profiler sorts kernel time into the tape's forward / backward and named phases, and puts kernels back. */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './node/backend';
import { KernelProfiler, summarize } from './kernel-profile';

describe('KernelProfiler', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('splits kernel time by phase and restores the kernels', () => {
    const before = tf.memory().numTensors;
    const kernelBefore = tf.getKernel(tf.BatchMatMul, 'wasm');
    const prof = new KernelProfiler('wasm');
    prof.start();
    const w = tf.tidy(() => tf.variable(tf.randomNormal([16, 8], 0, 1, 'float32', 1)));
    const x = tf.randomNormal([32, 16], 0, 1, 'float32', 2);
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(tf.matMul(x, w))), [w]);
    prof.phase('optimizer', () => tf.tidy(() => w.assign(tf.sub(w, tf.mul(grads[w.name]!, 0.1)))));
    prof.stop();
    const stats = prof.results();
    const { phases, kernels } = summarize(stats);
    const calls = (phase: string, kernel: string) => stats.find((s) => s.phase === phase && s.kernel === kernel)?.calls ?? 0;
    expect(calls('student forward', 'BatchMatMul')).toBe(1);
    expect(calls('student backward', 'BatchMatMul')).toBeGreaterThanOrEqual(1);
    expect(calls('optimizer', 'Sub')).toBe(1);
    expect(phases.get('student forward')).toBeGreaterThanOrEqual(0);
    expect(kernels.has('Square')).toBe(true);
    expect(tf.getKernel(tf.BatchMatMul, 'wasm')).toBe(kernelBefore);
    tf.dispose([value, x, w, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
