/**
 * One DINO iteration, as main_dino.train_one_epoch's loop body: teacher on the 2 global crops only
 * (no gradient), student on every crop, the loss, gradients, per-parameter clipping, the last layer's
 * gradient dropped during the first freezeLastLayer epochs, AdamW with this iteration's lr and weight
 * decay, EMA teacher update with this iteration's momentum, centre update.
 */
import * as tf from '@tensorflow/tfjs-core';
import { dinoLoss, targetEntropy, teacherTargets, updateCenter } from './loss';
import { multiCropForward, type DinoNet } from './net';
import { AdamW, clipGradients, emaUpdate } from './optimizer';
import type { Rng } from './rng';

export interface StepHyper {
  nCrops: number;
  studentTemp: number;
  centerMomentum: number;
  clipGrad: number;
  freezeLastLayer: number;
}

export interface DinoState {
  student: DinoNet;
  teacher: DinoNet;
  center: tf.Variable;
  optimizer: AdamW;
}

export interface StepInput {
  /** the 2 global crops, crop-major: [2B, S, S, 3] */
  globals: tf.Tensor4D;
  /** the local crops, crop-major: [nLocal*B, s, s, 3]; absent when nCrops = 2 */
  locals?: tf.Tensor4D | undefined;
  epoch: number;
  lr: number;
  wd: number;
  momentum: number;
  teacherTemp: number;
  /** stochastic depth in the student (official 0.1 rate) needs an RNG */
  dropPathRng?: Rng | undefined;
  /** per-block recomputation in the student's backward (default true: far less memory) */
  recompute?: boolean;
}

export interface StepResult {
  loss: number;
  teacherEntropy: number;
  /** mean KL(teacher || student) over the loss's crop pairs = loss - teacher entropy */
  kl: number;
}

export function createState(student: DinoNet, teacher: DinoNet): DinoState {
  const k = student.config.head.outDim;
  return {
    student,
    teacher,
    center: tf.tidy(() => tf.variable(tf.zeros([1, k]), false)),
    optimizer: new AdamW(student.params),
  };
}

export function disposeState(s: DinoState): void {
  for (const v of s.student.params.values()) v.dispose();
  for (const v of s.teacher.params.values()) v.dispose();
  s.center.dispose();
  s.optimizer.dispose();
}

export function dinoStep(state: DinoState, input: StepInput, h: StepHyper): StepResult {
  const { student, teacher, center } = state;
  // only the 2 global views pass through the teacher; one tidy per block keeps its memory small
  const teacherOut = tf.tidy(() => multiCropForward(teacher, [input.globals], { perBlockTidy: true }));
  const targets = teacherTargets(teacherOut, center, input.teacherTemp);
  const entropy = targetEntropy(teacherOut, center, input.teacherTemp);

  // the last layer gets no gradient (and so no update) while frozen, as cancel_gradients_last_layer
  const frozen = input.epoch < h.freezeLastLayer;
  const names = [...student.params.entries()].filter(([n, v]) => v.trainable && !(frozen && n.includes('last_layer')));
  const byVarName = new Map(names.map(([n, v]) => [v.name, n]));
  const crops = input.locals ? [input.globals, input.locals] : [input.globals];
  const { value: loss, grads: rawGrads } = tf.variableGrads(() => {
    const out = multiCropForward(student, crops, {
      recompute: input.recompute ?? true,
      ...(input.dropPathRng ? { dropPathRng: input.dropPathRng } : {}),
    });
    return dinoLoss(out, targets, h.nCrops, h.studentTemp);
  }, names.map(([, v]) => v));
  targets.dispose();

  const grads = new Map<string, tf.Tensor>();
  for (const [varName, g] of Object.entries(rawGrads)) grads.set(byVarName.get(varName)!, g);
  const clipped = h.clipGrad > 0 ? clipGradients(grads, h.clipGrad) : { grads, norms: null };
  clipped.norms?.dispose();
  state.optimizer.step(clipped.grads, input.lr, input.wd);
  for (const g of clipped.grads.values()) g.dispose();

  emaUpdate(teacher.params, student.params, input.momentum);
  updateCenter(center, teacherOut, h.centerMomentum);
  teacherOut.dispose();

  const values = tf.tidy(() => tf.stack([loss, entropy]));
  const [l, e] = values.dataSync();
  values.dispose();
  loss.dispose();
  entropy.dispose();
  return { loss: l!, teacherEntropy: e!, kl: l! - e! };
}
