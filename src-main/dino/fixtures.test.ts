/**
 * Numerics against PyTorch: fixtures made by scripts/fixtures/make_dino_fixtures.py from a reference
 * written to the official DINO definitions (tiny ViT dim 32, depth 2, patch 8; 2 x 32 px global and
 * 2 x 24 px local crops; K 64). Every tensor must agree to 1e-4 relative (max |ours - torch| over
 * max |torch|), on the wasm backend, or the one DINO_FIXTURES_BACKEND names (fixtures-webgpu.test.ts).
 * Values are read asynchronously, as a GPU backend needs.
 */
import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, parseChoice } from './runtime/node/backend';
import { dinoLoss, teacherTargets } from './train/loss';
import { createNet, loadParams, multiCropForward, type NetConfig } from './model/net';
import { posEmbedMatrix, posEmbedMatrixTensor } from './model/posembed';
import { Rng } from './rng';
import { readSafetensors, type NamedArray } from './weights/safetensors';
import { buildSchedules } from './train/schedules';
import { createState, dinoStep, disposeState } from './train/step';
import { lastSelfAttention, vitForward } from './model/vit';
import { maxRelErr } from '../testing/test-errors';

const dir = join(import.meta.dirname, 'fixtures');
const fx = readSafetensors(join(dir, 'dino_tiny.safetensors')).tensors;
interface StepScalars {
  loss: number;
  entropy: number;
  kl: number;
  lr: number;
  wd: number;
  momentum: number;
  teacher_temp: number;
}
const meta = JSON.parse(readFileSync(join(dir, 'dino_tiny.json'), 'utf8')) as {
  config: Record<string, number>;
  steps: Record<string, StepScalars>;
  schedules: { params: Record<string, number>; lr: number[]; wd: number[]; momentum: number[]; teacher_temp: number[] };
};
const C = meta.config as Record<string, number>;

function get(name: string): NamedArray {
  const t = fx.get(name);
  if (!t) throw new Error(`fixture has no ${name}`);
  return t;
}

function l2RelErr(ours: ArrayLike<number>, ref: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < ref.length; i++) {
    num += (ours[i]! - ref[i]!) ** 2;
    den += ref[i]! ** 2;
  }
  return Math.sqrt(num / (den || 1));
}

/**
 * Forward values, gradients and the loss: max |ours - torch| / max |torch| <= 1e-4. Parameters after
 * an AdamW step (`afterStep`): Adam's first steps move each element by about +-lr whatever the size of
 * its gradient, so an element whose gradient is at float32 rounding level can move slightly
 * differently; there the L2 relative error must be <= 1e-4 and the max relative error <= 1e-3.
 */
async function expectClose(ours: tf.Tensor | ArrayLike<number>, name: string, tol = 1e-4, afterStep = false): Promise<void> {
  const data = ours instanceof tf.Tensor ? await ours.data() : ours;
  const ref = get(name).data;
  const e = maxRelErr(data, ref);
  const l2 = l2RelErr(data, ref);
  const ok = afterStep ? l2 <= tol && e <= 10 * tol : e <= tol;
  if (!ok) throw new Error(`${name}: relative error max ${e.toExponential(2)}, l2 ${l2.toExponential(2)} (tolerance ${tol})`);
  const w = afterStep ? worst.afterStep : worst.direct;
  w.max = Math.max(w.max, e);
  w.l2 = Math.max(w.l2, l2);
}
const worst = { direct: { max: 0, l2: 0 }, afterStep: { max: 0, l2: 0 } };

const netConfig: NetConfig = {
  vit: { arch: 'custom', patchSize: C.patch!, embedDim: C.dim!, depth: C.depth!, numHeads: C.heads!, mlpRatio: 4, imgSize: C.img_size!, dropPathRate: 0 },
  head: { inDim: C.dim!, outDim: C.out_dim!, hiddenDim: C.hidden!, bottleneckDim: C.bottleneck!, nlayers: C.nlayers!, normLastLayer: true },
};

function nhwc(name: string): tf.Tensor4D {
  const t = get(name);
  return tf.tidy(() => tf.transpose(tf.tensor4d(t.data, t.shape as [number, number, number, number]), [0, 2, 3, 1]));
}

const backend = parseChoice(process.env.DINO_FIXTURES_BACKEND) ?? 'wasm';
const read = async (t: tf.Tensor): Promise<Float32Array> => (await t.data()) as Float32Array;

beforeAll(async () => {
  await initBackend(backend);
  // the interpolation matrix for 24 px crops is a kept, cached constant: make it before counting tensors
  posEmbedMatrixTensor(C.img_size! / C.patch!, C.img_size! / C.patch!, C.local_size! / C.patch!, C.local_size! / C.patch!);
});

afterAll(() => {
  const f = (w: { max: number; l2: number }) => `max-relative ${w.max.toExponential(2)}, l2-relative ${w.l2.toExponential(2)}`;
  console.log(`${backend}: worst agreement with PyTorch: outputs/gradients/centre ${f(worst.direct)}; parameters after AdamW steps ${f(worst.afterStep)}`);
});

describe('DINO numerics equal the PyTorch reference', () => {
  it('interpolates position embeddings like F.interpolate bicubic', async () => {
    const pos = get('student.pos_embed');
    const g0 = C.img_size! / C.patch!;
    const d = C.dim!;
    for (const g of [2, 3, 5]) {
      const m = posEmbedMatrix(g0, g0, g, g);
      const out = new Float32Array((1 + g * g) * d);
      out.set(pos.data.subarray(0, d));
      for (let r = 0; r < g * g; r++) {
        for (let k = 0; k < g0 * g0; k++) {
          const w = m[r * g0 * g0 + k]!;
          for (let c = 0; c < d; c++) out[(1 + r) * d + c]! += w * pos.data[(1 + k) * d + c]!;
        }
      }
      await expectClose(out, `expected.pos_g${g}`, 1e-5);
    }
  });

  it('computes the [CLS] embedding, last attention and head output', async () => {
    const before = tf.memory().numTensors;
    const net = createNet(netConfig, new Rng(1));
    loadParams(net, fx, 'student.');
    const g = nhwc('crops.global');
    const l = nhwc('crops.local');
    const cls = vitForward(net.config.vit, net.params, g);
    await expectClose(cls, 'expected.cls_global');
    const clsL = vitForward(net.config.vit, net.params, l, { perBlockTidy: true });
    await expectClose(clsL, 'expected.cls_local');
    const attn = lastSelfAttention(net.config.vit, net.params, g);
    await expectClose(attn, 'expected.attn_global');
    const out = multiCropForward(net, [g, l]);
    await expectClose(out, 'expected.student_out');
    tf.dispose([cls, clsL, attn, out, g, l]);
    for (const v of net.params.values()) v.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it.each([false, true])('computes the loss gradients (per-block recomputation %s)', async (recompute) => {
    const student = createNet(netConfig, new Rng(1));
    const teacher = createNet(netConfig, new Rng(2));
    loadParams(student, fx, 'student.');
    loadParams(teacher, fx, 'teacher.');
    const g = nhwc('crops.global');
    const l = nhwc('crops.local');
    const center = tf.tensor(get('center').data, [1, C.out_dim!]);
    const tOut = multiCropForward(teacher, [g]);
    const targets = teacherTargets(tOut, center, meta.steps.step0!.teacher_temp);
    const vars = [...student.params.entries()].filter(([, v]) => v.trainable);
    const { value, grads } = tf.variableGrads(
      () => dinoLoss(multiCropForward(student, [g, l], { recompute }), targets, 2 + C.n_local!, C.student_temp!),
      vars.map(([, v]) => v),
    );
    expect(Math.abs((await read(value))[0]! - meta.steps.step0!.loss)).toBeLessThan(1e-4 * meta.steps.step0!.loss);
    let checked = 0;
    for (const [name, v] of vars) {
      if (!fx.has(`step0.grad.${name}`)) continue;
      await expectClose(grads[v.name]!, `step0.grad.${name}`);
      checked++;
    }
    expect(checked).toBeGreaterThan(30);
    tf.dispose([g, l, center, tOut, targets, value, ...Object.values(grads)]);
    for (const v of [...student.params.values(), ...teacher.params.values()]) v.dispose();
  });

  it('gives the same gradients with stochastic depth with and without recomputation, and with kept activations', async () => {
    const cfg: NetConfig = { ...netConfig, vit: { ...netConfig.vit, dropPathRate: 0.5 } };
    const student = createNet(cfg, new Rng(1));
    loadParams(student, fx, 'student.');
    const g = nhwc('crops.global');
    const l = nhwc('crops.local');
    const targets = tf.softmax(tf.randomNormal([2 * C.batch!, C.out_dim!], 0, 1, 'float32', 3)) as tf.Tensor2D;
    const vars = [...student.params.values()].filter((v) => v.trainable);
    const gradsOf = (recompute: boolean, keepActivations = false) =>
      tf.variableGrads(
        () => dinoLoss(multiCropForward(student, [g, l], { recompute, keepActivations, dropPathRng: new Rng(11) }), targets, 2 + C.n_local!, C.student_temp!),
        vars,
      );
    const a = gradsOf(false);
    const b = gradsOf(true);
    const before = tf.memory().numTensors;
    const k = gradsOf(true, true);
    // the kept intermediates are freed once the backward has run: only the loss and the gradients remain
    expect(tf.memory().numTensors - before).toBe(1 + vars.length);
    expect(Math.abs((await read(a.value))[0]! - (await read(b.value))[0]!)).toBeLessThan(1e-5);
    for (const v of vars) expect(maxRelErr(await read(b.grads[v.name]!), await read(a.grads[v.name]!))).toBeLessThan(1e-4);
    // the same kernels on the same inputs: keeping instead of recomputing changes no bit
    expect((await read(k.value))[0]).toBe((await read(b.value))[0]);
    for (const v of vars) expect(Array.from(await read(k.grads[v.name]!))).toEqual(Array.from(await read(b.grads[v.name]!)));
    tf.dispose([g, l, targets, a.value, b.value, k.value, ...Object.values(a.grads), ...Object.values(b.grads), ...Object.values(k.grads)]);
    for (const v of student.params.values()) v.dispose();
  });

  it('takes two training steps (clip, frozen last layer, AdamW, EMA, centre) like main_dino', async () => {
    const before = tf.memory().numTensors;
    const student = createNet(netConfig, new Rng(1));
    const teacher = createNet(netConfig, new Rng(2));
    loadParams(student, fx, 'student.');
    loadParams(teacher, fx, 'teacher.');
    const state = createState(student, teacher);
    tf.tidy(() => state.center.assign(tf.tensor(get('center').data, [1, C.out_dim!])));
    const g = nhwc('crops.global');
    const l = nhwc('crops.local');
    const sched = buildSchedules(
      {
        epochs: C.epochs!,
        batchSize: C.batch!,
        lr: C.lr!,
        minLr: C.min_lr!,
        warmupEpochs: C.warmup_epochs!,
        weightDecay: C.weight_decay!,
        weightDecayEnd: C.weight_decay_end!,
        momentumTeacher: C.momentum_teacher!,
        warmupTeacherTemp: C.warmup_teacher_temp!,
        teacherTemp: C.teacher_temp!,
        warmupTeacherTempEpochs: C.warmup_teacher_temp_epochs!,
      },
      C.iters_per_epoch!,
    );
    for (const it of [0, 1]) {
      const ref = meta.steps[`step${it}`]!;
      const epoch = Math.floor(it / C.iters_per_epoch!);
      expect(sched.lr[it]).toBeCloseTo(ref.lr, 12);
      expect(sched.wd[it]).toBeCloseTo(ref.wd, 12);
      expect(sched.momentum[it]).toBeCloseTo(ref.momentum, 12);
      expect(sched.teacherTemp[epoch]).toBeCloseTo(ref.teacher_temp, 12);
      const r = await dinoStep(
        state,
        { globals: g, locals: l, epoch, lr: sched.lr[it]!, wd: sched.wd[it]!, momentum: sched.momentum[it]!, teacherTemp: sched.teacherTemp[epoch]! },
        { nCrops: 2 + C.n_local!, studentTemp: C.student_temp!, centerMomentum: C.center_momentum!, clipGrad: C.clip_grad!, freezeLastLayer: C.freeze_last_layer! },
      );
      expect(maxRelErr([r.loss, r.teacherEntropy, r.kl], [ref.loss, ref.entropy, ref.kl])).toBeLessThan(1e-4);
      for (const [name, v] of student.params) await expectClose(v, `step${it}.student.${name}`, 1e-4, true);
      for (const [name, v] of teacher.params) await expectClose(v, `step${it}.teacher.${name}`, 1e-4, true);
      await expectClose(state.center, `step${it}.center`);
    }
    g.dispose();
    l.dispose();
    disposeState(state);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('builds the schedules of utils.cosine_scheduler and DINOLoss', async () => {
    const p = meta.schedules.params;
    const s = buildSchedules(
      {
        epochs: p.epochs!,
        batchSize: 256,
        lr: p.base_lr!,
        minLr: p.min_lr!,
        warmupEpochs: p.warmup_epochs!,
        weightDecay: p.wd!,
        weightDecayEnd: p.wd_end!,
        momentumTeacher: p.m!,
        warmupTeacherTemp: p.wtt!,
        teacherTemp: p.tt!,
        warmupTeacherTempEpochs: p.wtt_epochs!,
      },
      p.niter!,
    );
    expect(s.lr.length).toBe(p.epochs! * p.niter!);
    expect(maxRelErr(s.lr, meta.schedules.lr)).toBeLessThan(1e-12);
    expect(maxRelErr(s.wd, meta.schedules.wd)).toBeLessThan(1e-12);
    expect(maxRelErr(s.momentum, meta.schedules.momentum)).toBeLessThan(1e-12);
    expect(maxRelErr(s.teacherTemp, meta.schedules.teacher_temp)).toBeLessThan(1e-12);
  });
});
