/**
 * The in-place end of a step (clipping, AdamW, EMA in wasm's heap) against the tfjs-ops path: the same
 * parameters, teacher and moments over several steps, starting from nets whose buffers are shared (as
 * the trainer's teacher starts as the student's clone), which take the ops path until they own one.
 * A shared buffer is never written; without the native matMul the ops path runs (wasm's XNNPACK
 * matMul caches packed weights); no tensor leaks. The fixtures test holds the in-place path to PyTorch.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './backend';
import { clipAndStepInPlace, inPlaceUpdate, wasmHeap } from './fused-update';
import { installNativeKernels, loadNativeBlas, nativeKernelsActive, uninstallNativeKernels } from './native-kernels';
import { cloneNet, createNet, type DinoNet, type NetConfig } from './net';
import { AdamW } from './optimizer';
import { posEmbedMatrixTensor } from './posembed';
import { Rng } from './rng';
import { createState, dinoStep, disposeState, type DinoState } from './step';
import { maxRelErr } from './test-errors';

const config: NetConfig = {
  vit: { arch: 'custom', patchSize: 8, embedDim: 32, depth: 2, numHeads: 2, mlpRatio: 4, imgSize: 32, dropPathRate: 0 },
  head: { inDim: 32, outDim: 64, hiddenDim: 48, bottleneckDim: 16, nlayers: 3, normLastLayer: true },
};

function crops(n: number, size: number, rng: Rng): tf.Tensor4D {
  const a = new Float32Array(n * size * size * 3);
  for (let i = 0; i < a.length; i++) a[i] = rng.normal();
  return tf.tensor4d(a, [n, size, size, 3]);
}

/** `steps` iterations from `init`, the first in the frozen-last-layer epoch; the state is the caller's. */
function train(init: DinoNet, inPlace: boolean, steps: number): DinoState {
  inPlaceUpdate.enabled = inPlace;
  const state = createState(cloneNet(init), cloneNet(init));
  const rng = new Rng(5);
  for (let it = 0; it < steps; it++) {
    const globals = crops(8, 32, rng);
    const locals = crops(8, 16, rng);
    // a large lr and a small clip: Adam moves far and clipping bites, so a wrong term would show
    dinoStep(
      state,
      { globals, locals, epoch: it === 0 ? 0 : 1, lr: 5e-3, wd: 0.04 + 0.01 * it, momentum: 0.9, teacherTemp: 0.04 },
      { nCrops: 4, studentTemp: 0.1, centerMomentum: 0.9, clipGrad: 0.05, freezeLastLayer: 1 },
    );
    tf.dispose([globals, locals]);
  }
  return state;
}

// the addon built (npm run build:native, as CI does): initBackend then installs the native kernels
const addon = loadNativeBlas() !== null;
const hasNative = (): boolean => nativeKernelsActive() !== null;

beforeAll(async () => {
  await initBackend('wasm');
  posEmbedMatrixTensor(4, 4, 2, 2);
});

afterAll(() => {
  inPlaceUpdate.enabled = true;
});

describe('in-place clipping, AdamW and EMA', () => {
  it.skipIf(!addon)('gives the ops path\'s parameters, teacher and moments, writing in place once buffers are owned', () => {
    const before = tf.memory().numTensors;
    const init = createNet(config, new Rng(3));
    const ops = train(init, false, 4);
    const ours = train(init, true, 4);
    for (const [name, v] of ops.student.params) {
      expect(maxRelErr(ours.student.params.get(name)!.dataSync(), v.dataSync()), name).toBeLessThan(1e-5);
      expect(maxRelErr(ours.teacher.params.get(name)!.dataSync(), ops.teacher.params.get(name)!.dataSync()), name).toBeLessThan(1e-5);
    }
    for (const [name, s] of ops.optimizer.state) {
      const o = ours.optimizer.state.get(name)!;
      expect(o.step).toBe(s.step);
      expect(maxRelErr(o.m.dataSync(), s.m.dataSync()), name).toBeLessThan(1e-5);
      expect(maxRelErr(o.v.dataSync(), s.v.dataSync()), name).toBeLessThan(1e-5);
    }
    expect(maxRelErr(ours.center.dataSync(), ops.center.dataSync())).toBeLessThan(1e-5);
    // the clones shared init's buffers; once owned, a step writes into them: the same buffer after it
    const param = ours.student.params.get('blocks.1.mlp.fc1.weight')!;
    const teacherParam = ours.teacher.params.get('blocks.1.mlp.fc1.weight')!;
    const ids = [param.dataId, teacherParam.dataId];
    const values = param.dataSync().slice();
    inPlaceUpdate.enabled = true;
    const rng = new Rng(9);
    const [globals, locals] = [crops(8, 32, rng), crops(8, 16, rng)];
    dinoStep(ours, { globals, locals, epoch: 1, lr: 5e-3, wd: 0.04, momentum: 0.9, teacherTemp: 0.04 }, { nCrops: 4, studentTemp: 0.1, centerMomentum: 0.9, clipGrad: 0.05, freezeLastLayer: 1 });
    expect([param.dataId, teacherParam.dataId]).toEqual(ids);
    expect(maxRelErr(param.dataSync(), values)).toBeGreaterThan(1e-3);
    tf.dispose([globals, locals]);
    disposeState(ops);
    disposeState(ours);
    for (const v of init.params.values()) v.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('leaves a shared buffer alone: the parameter is handed back to the ops path', () => {
    const heap = wasmHeap();
    if (!heap) return;
    const p = tf.variable(tf.tensor1d([1, 2, 3]), true, 'shared_p');
    const other = p.clone();
    const opt = new AdamW(new Map([['w', p]]));
    const g = tf.tensor1d([0.5, -0.5, 1]);
    expect(clipAndStepInPlace(heap, opt, new Map([['w', p]]), new Map([['w', g]]), 3, 0.1, 0)).toEqual(['w']);
    expect(Array.from(other.dataSync())).toEqual([1, 2, 3]);
    // the moments were made, but no step was counted: the ops path counts it
    expect(opt.state.get('w')!.step).toBe(0);
    tf.dispose([p, other, g]);
    opt.dispose();
  });

  it('is off without the native matMul (wasm\'s own caches packed weights by tensor id)', () => {
    if (!hasNative()) {
      expect(wasmHeap()).toBeNull();
      return;
    }
    uninstallNativeKernels();
    try {
      expect(wasmHeap()).toBeNull();
    } finally {
      installNativeKernels();
    }
    expect(wasmHeap()).not.toBeNull();
  });
});
