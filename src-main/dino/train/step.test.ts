/**
 * The training step's gradient accumulation and block freezing on a tiny ViT with random crops:
 * two micro-batches of B images and one optimizer step give what one batch of 2B gives (parameters,
 * teacher, centre, AdamW moments); frozen blocks keep their values bit for bit, get no optimizer
 * state, and the blocks after them get the same gradients as without freezing; no tensor leaks.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../runtime/node/backend';
import { dinoLoss, teacherTargets } from './loss';
import { cloneNet, createNet, multiCropForward, type DinoNet, type NetConfig } from '../model/net';
import { posEmbedMatrixTensor } from '../model/posembed';
import { Rng } from '../rng';
import { createState, dinoStep, dinoStepAccumulated, disposeState, isFrozenBackboneParam, KEEP_ACTIVATIONS_BYTES, keptActivationBytes, type DinoState, type MicroBatch, type StepHyper, type StepSchedule } from './step';
import { maxRelErr } from '../../testing/test-errors';

const GLOBAL = 32;
const LOCAL = 16;
const N_LOCAL = 2;
const PATCH = 8;

function netConfig(depth: number, dropPathRate = 0): NetConfig {
  return {
    vit: { arch: 'custom', patchSize: PATCH, embedDim: 32, depth, numHeads: 2, mlpRatio: 4, imgSize: GLOBAL, dropPathRate },
    head: { inDim: 32, outDim: 64, hiddenDim: 48, bottleneckDim: 16, nlayers: 3, normLastLayer: true },
  };
}

const hyper: StepHyper = { nCrops: 2 + N_LOCAL, studentTemp: 0.1, centerMomentum: 0.9, clipGrad: 3, freezeLastLayer: 1 };
// epoch 1: past the frozen last layer, so every parameter of the student trains
const sched: StepSchedule = { epoch: 1, lr: 1e-3, wd: 0.04, momentum: 0.99, teacherTemp: 0.04 };

function randomCrops(n: number, size: number, rng: Rng): tf.Tensor4D {
  const a = new Float32Array(n * size * size * 3);
  for (let i = 0; i < a.length; i++) a[i] = rng.normal();
  return tf.tensor4d(a, [n, size, size, 3]);
}

/** A batch of b images, crop-major: globals [2b, ...], locals [N_LOCAL*b, ...]. */
function batch(b: number, seed: number): Required<MicroBatch> {
  const rng = new Rng(seed);
  return { globals: randomCrops(2 * b, GLOBAL, rng), locals: randomCrops(N_LOCAL * b, LOCAL, rng) };
}

/** Images [from, from + n) of a crop-major batch of b images: the same rows of every crop. */
function imagesOf(x: tf.Tensor4D, crops: number, b: number, from: number, n: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [, h, w, c] = x.shape;
    const parts = Array.from({ length: crops }, (_, k) => tf.slice(x, [k * b + from, 0, 0, 0], [n, h, w, c]));
    return tf.concat(parts, 0);
  });
}

function split(full: Required<MicroBatch>, b: number, parts: number): Required<MicroBatch>[] {
  const n = b / parts;
  return Array.from({ length: parts }, (_, i) => ({
    globals: imagesOf(full.globals, 2, b, i * n, n),
    locals: imagesOf(full.locals, N_LOCAL, b, i * n, n),
  }));
}

function disposeBatch(mb: Required<MicroBatch>): void {
  tf.dispose([mb.globals, mb.locals]);
}

/** A state whose student and teacher are copies of `init` (its own variables). */
function stateFrom(init: DinoNet): DinoState {
  return createState(cloneNet(init), cloneNet(init));
}

beforeAll(async () => {
  await initBackend('wasm');
  // the interpolation matrix for the local crops is a kept, cached constant: make it before counting tensors
  posEmbedMatrixTensor(GLOBAL / PATCH, GLOBAL / PATCH, LOCAL / PATCH, LOCAL / PATCH);
});

describe('dinoStepAccumulated', () => {
  it('gives the parameters of one batch of 2B when run as 2 micro-batches of B', async () => {
    const before = tf.memory().numTensors;
    const b = 8;
    const init = createNet(netConfig(2), new Rng(1));
    const one = stateFrom(init);
    const two = stateFrom(init);
    // a non-zero centre, so its update and its use in the targets are both checked
    const c0 = tf.tidy(() => tf.mul(tf.randomNormal([1, 64], 0, 1, 'float32', 5), 0.1));
    one.center.assign(c0);
    two.center.assign(c0);
    const full = batch(b, 9);
    const micro = split(full, b, 2);

    // a clip threshold that most parameters' gradients exceed: clipping must act on the summed gradient
    const clipHyper = { ...hyper, clipGrad: 0.05 };
    const r1 = await dinoStep(one, { ...full, ...sched }, clipHyper);
    const r2 = await dinoStepAccumulated(two, micro, sched, clipHyper);
    expect(Math.abs(r2.loss - r1.loss)).toBeLessThan(1e-5 * Math.abs(r1.loss));
    expect(Math.abs(r2.teacherEntropy - r1.teacherEntropy)).toBeLessThan(1e-5 * Math.abs(r1.teacherEntropy));
    expect(maxRelErr(two.center.dataSync(), one.center.dataSync())).toBeLessThan(1e-6);
    expect([...two.optimizer.state.keys()]).toEqual([...one.optimizer.state.keys()]);

    // AdamW's first moment after one step is (1 - beta1) x the clipped gradient: this compares the
    // accumulated, clipped gradients themselves
    const worst = { grad: 0, student: 0, teacher: 0 };
    let clipped = 0;
    for (const [name, m] of one.optimizer.state) {
      const other = two.optimizer.state.get(name)!;
      expect(other.step).toBe(1);
      const norm = Math.hypot(...other.m.dataSync()) / (1 - two.optimizer.beta1);
      if (Math.abs(norm - clipHyper.clipGrad) < 1e-4) clipped++;
      worst.grad = Math.max(worst.grad, maxRelErr(other.m.dataSync(), m.m.dataSync()), maxRelErr(other.v.dataSync(), m.v.dataSync()));
    }
    for (const [name, v] of one.student.params) {
      const ref = v.dataSync();
      const ours = two.student.params.get(name)!.dataSync();
      // AdamW's first step moves an element by lr g / (|g| + eps): where g is at float rounding level
      // (e.g. the key bias, whose true gradient is 0: softmax ignores it) the step's size and sign are
      // noise in both runs, so those elements are only held to that step's bound, 2 lr
      const m = one.optimizer.state.get(name)?.m.dataSync();
      const teacherRef = one.teacher.params.get(name)!.dataSync();
      const teacherOurs = two.teacher.params.get(name)!.dataSync();
      const well = { ours: [] as number[], ref: [] as number[], teacherOurs: [] as number[], teacherRef: [] as number[] };
      for (let i = 0; i < ref.length; i++) {
        expect(Math.abs(ours[i]! - ref[i]!)).toBeLessThanOrEqual(2 * sched.lr + 1e-7);
        if (!m || Math.abs(m[i]!) / (1 - one.optimizer.beta1) >= 1e-6) {
          well.ours.push(ours[i]!);
          well.ref.push(ref[i]!);
          well.teacherOurs.push(teacherOurs[i]!);
          well.teacherRef.push(teacherRef[i]!);
        }
      }
      worst.student = Math.max(worst.student, maxRelErr(well.ours, well.ref));
      worst.teacher = Math.max(worst.teacher, maxRelErr(well.teacherOurs, well.teacherRef));
    }
    console.log(
      `accumulated vs one batch, worst max-relative error: clipped gradients (AdamW moments) ${worst.grad.toExponential(2)}, ` +
        `student ${worst.student.toExponential(2)}, teacher ${worst.teacher.toExponential(2)}`,
    );
    expect(clipped).toBeGreaterThan(one.optimizer.state.size / 2);
    expect(worst.grad).toBeLessThan(1e-5);
    expect(worst.student).toBeLessThan(1e-5);
    expect(worst.teacher).toBeLessThan(1e-5);

    tf.dispose(c0);
    disposeBatch(full);
    micro.forEach(disposeBatch);
    disposeState(one);
    disposeState(two);
    for (const v of init.params.values()) v.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('keeps the tensor count flat over accumulated steps', async () => {
    const init = createNet(netConfig(2), new Rng(2));
    const state = stateFrom(init);
    for (const v of init.params.values()) v.dispose();
    const micro = [batch(4, 1), batch(4, 2), batch(2, 3)];
    // the first step creates the AdamW moments
    await dinoStepAccumulated(state, micro, sched, hyper);
    const counts: number[] = [];
    for (let i = 0; i < 3; i++) {
      await dinoStepAccumulated(state, micro, { ...sched, dropPathRng: new Rng(i) }, { ...hyper, freezeBlocks: i % 2 });
      counts.push(tf.memory().numTensors);
    }
    micro.forEach(disposeBatch);
    // a step with a block frozen skips that block's moments but keeps them: the count stays flat
    expect(new Set(counts).size).toBe(1);
    disposeState(state);
  });
});

describe('freezeBlocks', () => {
  it('leaves the frozen part bit-identical and without optimizer state, and trains the rest', async () => {
    const before = tf.memory().numTensors;
    const depth = 3;
    const freezeBlocks = 2;
    const init = createNet(netConfig(depth), new Rng(3));
    const state = stateFrom(init);
    for (const v of init.params.values()) v.dispose();
    const start = new Map([...state.student.params].map(([n, v]) => [n, v.dataSync().slice()]));
    const full = batch(4, 4);
    // the loss as the plain forward passes give it: the step shares the frozen blocks' pass over the
    // global crops between teacher and student, which must change nothing
    const expected = tf.tidy(() => {
      const targets = teacherTargets(multiCropForward(state.teacher, [full.globals]), state.center, sched.teacherTemp);
      return dinoLoss(multiCropForward(state.student, [full.globals, full.locals]), targets, hyper.nCrops, hyper.studentTemp);
    });
    const r = await dinoStep(state, { ...full, ...sched }, { ...hyper, freezeBlocks });
    expect(Math.abs(r.loss - expected.dataSync()[0]!)).toBeLessThan(1e-6 * r.loss);
    expected.dispose();
    await dinoStep(state, { ...full, ...sched }, { ...hyper, freezeBlocks });
    disposeBatch(full);

    let frozen = 0;
    for (const [name, v] of state.student.params) {
      const was = start.get(name)!;
      const now = v.dataSync();
      if (isFrozenBackboneParam(name, freezeBlocks)) {
        frozen++;
        expect(now, name).toEqual(was);
        expect(state.optimizer.state.has(name), name).toBe(false);
        // the teacher's EMA of two equal values is that value: copied exactly
        expect(state.teacher.params.get(name)!.dataSync(), name).toEqual(was);
      } else if (v.trainable) {
        expect(maxRelErr(now, was), name).toBeGreaterThan(0);
        expect(state.optimizer.state.get(name)?.step, name).toBe(2);
      }
    }
    // cls_token, pos_embed, patch_embed.proj.{weight,bias} and 12 parameters per frozen block
    expect(frozen).toBe(4 + 12 * freezeBlocks);
    expect([...state.optimizer.state.keys()].some((n) => n.startsWith(`blocks.${freezeBlocks}.`))).toBe(true);
    disposeState(state);
    expect(tf.memory().numTensors).toBe(before);
  });

  it.each([0, 0.3])('gives the trainable parameters the gradients of the unfrozen network (drop path %s)', (dropPathRate) => {
    const before = tf.memory().numTensors;
    const net = createNet(netConfig(3, dropPathRate), new Rng(4));
    const full = batch(4, 5);
    const targets = tf.tidy(() => tf.softmax(tf.randomNormal([8, 64], 0, 1, 'float32', 6)) as tf.Tensor2D);
    const vars = [...net.params.entries()].filter(([n, v]) => v.trainable && !isFrozenBackboneParam(n, 2)).map(([, v]) => v);
    const gradsOf = (frozenBlocks: number) =>
      tf.variableGrads(() => {
        const out = multiCropForward(net, [full.globals, full.locals], { recompute: true, frozenBlocks, dropPathRng: new Rng(7) });
        return dinoLoss(out, targets, hyper.nCrops, hyper.studentTemp);
      }, vars);
    const a = gradsOf(0);
    const f = gradsOf(2);
    expect(f.value.dataSync()[0]).toBeCloseTo(a.value.dataSync()[0]!, 6);
    expect(Object.keys(f.grads).sort()).toEqual(Object.keys(a.grads).sort());
    for (const v of vars) expect(maxRelErr(f.grads[v.name]!.dataSync(), a.grads[v.name]!.dataSync()), v.name).toBeLessThan(1e-5);
    tf.dispose([targets, a.value, f.value, ...Object.values(a.grads), ...Object.values(f.grads)]);
    disposeBatch(full);
    for (const v of net.params.values()) v.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('keeps nothing of the frozen blocks for the backward pass', () => {
    const net = createNet(netConfig(4), new Rng(6));
    const full = batch(4, 8);
    const targets = tf.tidy(() => tf.softmax(tf.randomNormal([8, 64], 0, 1, 'float32', 6)) as tf.Tensor2D);
    const kept = (frozenBlocks: number) => {
      const vars = [...net.params.entries()].filter(([n, v]) => v.trainable && !isFrozenBackboneParam(n, frozenBlocks)).map(([, v]) => v);
      const before = tf.memory().numTensors;
      let during = 0;
      const r = tf.variableGrads(() => {
        const out = multiCropForward(net, [full.globals, full.locals], { recompute: true, frozenBlocks });
        // what the tape holds for the backward pass once the forward pass is done
        during = tf.memory().numTensors - before;
        return dinoLoss(out, targets, hyper.nCrops, hyper.studentTemp);
      }, vars);
      tf.dispose([r.value, ...Object.values(r.grads)]);
      return during;
    };
    const all = kept(0);
    const frozen = kept(3);
    console.log(`tensors alive after the student's forward pass: ${all} with every block trainable, ${frozen} with 3 of 4 frozen`);
    // the frozen blocks and the patch embedding leave nothing taped (the recomputed blocks keep 1 input each)
    expect(frozen).toBeLessThan(all - 3 * 2);
    tf.dispose([targets]);
    disposeBatch(full);
    for (const v of net.params.values()) v.dispose();
  });

  it('refuses a count outside [0, depth]', () => {
    const net = createNet(netConfig(2), new Rng(5));
    const x = tf.zeros([2, GLOBAL, GLOBAL, 3]) as tf.Tensor4D;
    expect(() => multiCropForward(net, [x], { frozenBlocks: 3 })).toThrow(/frozenBlocks/);
    x.dispose();
    for (const v of net.params.values()) v.dispose();
  });
});

describe('kept activations', () => {
  it('are kept for the CPU presets and recomputed for a ViT-S/16 fine-tune at 224 px', () => {
    const tiny = { arch: 'vit_tiny' as const, patchSize: 16, embedDim: 192, depth: 12, numHeads: 3, mlpRatio: 4, imgSize: 96, dropPathRate: 0 };
    const small = { ...tiny, arch: 'vit_small' as const, embedDim: 384, numHeads: 6, imgSize: 224 };
    const tinyBytes = keptActivationBytes(tiny, [[32, 96, 96, 3], [96, 48, 48, 3]], 0);
    // 2144 rows x 192 x 20 floats x 12 blocks, plus attention
    expect(tinyBytes).toBeGreaterThan(4 * 2144 * 192 * 20 * 12);
    expect(tinyBytes).toBeLessThanOrEqual(KEEP_ACTIVATIONS_BYTES);
    expect(keptActivationBytes(small, [[32, 224, 224, 3], [64, 96, 96, 3]], 6)).toBeGreaterThan(KEEP_ACTIVATIONS_BYTES);
    // frozen blocks keep nothing
    expect(keptActivationBytes(tiny, [[32, 96, 96, 3]], 12)).toBe(0);
  });
});
