/**
 * One DINO iteration, as main_dino.train_one_epoch's loop body: teacher on the 2 global crops only
 * (no gradient), student on every crop, the loss, gradients, per-parameter clipping, the last layer's
 * gradient dropped during the first freezeLastLayer epochs, AdamW with this iteration's lr and weight
 * decay, EMA teacher update with this iteration's momentum, centre update.
 *
 * Gradient accumulation: the batch may come as several micro-batches that share one optimizer step.
 * Teacher and centre stay fixed within the step, so each micro-batch's targets are those the whole
 * batch would get; the loss is a mean over the batch, so micro-batch gradients are summed with weight
 * (micro-batch size / batch size); clipping, AdamW, the EMA and the centre update (with the mean of
 * every micro-batch's teacher outputs) then run once, on the whole batch's values.
 *
 * Fine-tuning may freeze the first blocks (StepHyper.freezeBlocks): no gradient, no AdamW state, and
 * their forward pass over the global crops done once for teacher and student.
 *
 * Nothing in a step waits for the device: its ops are queued, and its loss and entropy come back
 * through a promise (the one read of the step, a copy queued right behind its last op). On a GPU the
 * caller queues the next step before awaiting it (trainer.ts), so the device never idles on a read.
 */
import * as tf from '@tensorflow/tfjs-core';
import { dinoLoss, targetEntropy, teacherTargets, updateCenter } from './loss';
import { multiCropForward, type DinoNet } from '../model/net';
import { readValues } from '../runtime/gpu-errors';
import { AdamW, clipGradients, emaUpdate } from './optimizer';
import type { Rng } from '../rng';
import { KEPT_FLOATS_PER_ROW_PER_DIM } from '../model/block-backward';
import { vitFrozenPrefix, type VitConfig } from '../model/vit';

export interface StepHyper {
  nCrops: number;
  studentTemp: number;
  centerMomentum: number;
  clipGrad: number;
  freezeLastLayer: number;
  /**
   * Fine-tuning: the first N transformer blocks, the patch embedding, [CLS] token and position
   * embedding get no gradient and no optimizer state (default 0). The student's backward pass stops
   * at block N. Teacher and student hold the same values there (the teacher starts as the student's
   * copy, and the EMA of equal values copies them), so the global crops go through the frozen blocks
   * once for both nets.
   */
  freezeBlocks?: number | undefined;
}

export interface DinoState {
  student: DinoNet;
  teacher: DinoNet;
  center: tf.Variable;
  optimizer: AdamW;
}

/** Crops of some images, crop-major (row = crop * B + image). */
export interface MicroBatch {
  /** the 2 global crops: [2B, S, S, 3] */
  globals: tf.Tensor4D;
  /** the local crops: [nLocal*B, s, s, 3]; absent when nCrops = 2 */
  locals?: tf.Tensor4D | undefined;
}

/** This iteration's place in the schedules, and how the student runs. */
export interface StepSchedule {
  epoch: number;
  lr: number;
  wd: number;
  momentum: number;
  teacherTemp: number;
  /** stochastic depth in the student (official 0.1 rate) needs an RNG */
  dropPathRng?: Rng | undefined;
  /** per-block recomputation in the student's backward (default true: far less memory) */
  recompute?: boolean;
  /**
   * with recompute: keep each block's intermediates for its backward instead of recomputing them;
   * default: when they fit in KEEP_ACTIVATIONS_BYTES
   */
  keepActivations?: boolean;
}

/**
 * Memory the student's kept block intermediates may take. Below it, keeping them saves the recomputed
 * forward (a quarter of a step's matMul work); ViT-Tiny at 96 px, batch 16 keeps ~400 MB, ViT-S/16 at
 * 224 px with a micro-batch of 16 would need ~3 GB of the 4 GiB wasm heap and recomputes.
 */
export const KEEP_ACTIVATIONS_BYTES = 600 * 2 ** 20;

/** bytes the student's trainable blocks keep for crops of these shapes ([n, H, W, 3] each) */
export function keptActivationBytes(vit: VitConfig, cropShapes: readonly (readonly number[])[], freezeBlocks: number): number {
  let floats = 0;
  for (const [n = 0, hgt = 0, wdt = 0] of cropShapes) {
    const tokens = Math.floor(hgt / vit.patchSize) * Math.floor(wdt / vit.patchSize) + 1;
    floats += n * tokens * vit.embedDim * KEPT_FLOATS_PER_ROW_PER_DIM + n * vit.numHeads * tokens * tokens;
  }
  return 4 * floats * (vit.depth - freezeBlocks);
}

export interface StepInput extends MicroBatch, StepSchedule {}

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

/** Whether a backbone parameter lies in the frozen part: embeddings and blocks [0, n). */
export function isFrozenBackboneParam(name: string, freezeBlocks: number): boolean {
  if (freezeBlocks <= 0) return false;
  if (name === 'cls_token' || name === 'pos_embed' || name.startsWith('patch_embed.')) return true;
  const m = /^blocks\.(\d+)\./.exec(name);
  return m !== null && Number(m[1]) < freezeBlocks;
}

/** One iteration on one batch. */
export function dinoStep(state: DinoState, input: StepInput, h: StepHyper): Promise<StepResult> {
  return dinoStepAccumulated(state, [input], input, h);
}

/**
 * One iteration (one optimizer step) on a batch given as micro-batches, in order. Returns once every
 * op is queued (the state's variables then hold the new values, as later ops see them); the promise
 * resolves with the step's loss and entropy once the device has run it.
 */
export function dinoStepAccumulated(state: DinoState, microBatches: readonly MicroBatch[], s: StepSchedule, h: StepHyper): Promise<StepResult> {
  const { student, teacher, center } = state;
  if (microBatches.length === 0) throw new Error('dinoStep: no micro-batch');
  const sizes = microBatches.map((mb) => mb.globals.shape[0] / 2);
  const total = sizes.reduce((a, b) => a + b, 0);
  const freezeBlocks = h.freezeBlocks ?? 0;

  // the last layer gets no gradient (and so no update) while frozen, as cancel_gradients_last_layer;
  // frozen blocks get none at all (requires_grad = False in PyTorch terms)
  const frozenLast = s.epoch < h.freezeLastLayer;
  const names = [...student.params.entries()].filter(
    ([n, v]) => v.trainable && !(frozenLast && n.includes('last_layer')) && !isFrozenBackboneParam(n, freezeBlocks),
  );
  const byVarName = new Map(names.map(([n, v]) => [v.name, n]));
  const vars = names.map(([, v]) => v);

  // running sums over the micro-batches: gradients by parameter name, weighted loss and entropy
  const grads = new Map<string, tf.Tensor>();
  let loss: tf.Scalar = tf.scalar(0);
  let entropy: tf.Scalar = tf.scalar(0);
  const teacherOuts: tf.Tensor2D[] = [];
  const add = (a: tf.Scalar, b: tf.Scalar): tf.Scalar => {
    const sum = tf.add(a, b) as tf.Scalar;
    tf.dispose([a, b]);
    return sum;
  };
  try {
    for (const [i, mb] of microBatches.entries()) {
      // the batch loss is the size-weighted mean of the micro-batch losses (weight 1 for one batch)
      const weight = sizes[i]! / total;
      // the frozen blocks' output for the global crops, shared by teacher and student (without
      // stochastic depth in them, the student computes exactly what the teacher does there)
      const frozenTokens =
        freezeBlocks > 0 && !(s.dropPathRng && student.config.vit.dropPathRate > 0)
          ? new Map([[mb.globals, vitFrozenPrefix(teacher.config.vit, teacher.params, mb.globals, freezeBlocks)]])
          : undefined;
      let r: { value: tf.Scalar; grads: tf.NamedTensorMap };
      try {
        // only the 2 global views pass through the teacher; one tidy per block keeps its memory small
        const teacherOut = tf.tidy(() =>
          multiCropForward(teacher, [mb.globals], { perBlockTidy: true, frozenBlocks: freezeBlocks, ...(frozenTokens ? { frozenTokens } : {}) }),
        );
        teacherOuts.push(teacherOut);
        // teacher and centre do not change within the step: these are the targets the whole batch gets
        const targets = teacherTargets(teacherOut, center, s.teacherTemp);
        entropy = add(entropy, tf.tidy(() => tf.mul(targetEntropy(teacherOut, center, s.teacherTemp), weight)));
        const crops = mb.locals ? [mb.globals, mb.locals] : [mb.globals];
        r = tf.variableGrads(() => {
          const out = multiCropForward(student, crops, {
            recompute: s.recompute ?? true,
            keepActivations: s.keepActivations ?? keptActivationBytes(student.config.vit, crops.map((c) => c.shape), freezeBlocks) <= KEEP_ACTIVATIONS_BYTES,
            frozenBlocks: freezeBlocks,
            ...(frozenTokens ? { frozenTokens } : {}),
            ...(s.dropPathRng ? { dropPathRng: s.dropPathRng } : {}),
          });
          const l = dinoLoss(out, targets, h.nCrops, h.studentTemp);
          return weight === 1 ? l : (tf.mul(l, weight) as tf.Scalar);
        }, vars);
        targets.dispose();
      } finally {
        if (frozenTokens) tf.dispose([...frozenTokens.values()]);
      }
      loss = add(loss, r.value);
      for (const [varName, g] of Object.entries(r.grads)) {
        const name = byVarName.get(varName)!;
        const acc = grads.get(name);
        // add into the running sum, freeing each addend at once: memory stays at one sum + one gradient
        grads.set(name, acc ? tf.add(acc, g) : g);
        if (acc) tf.dispose([acc, g]);
      }
    }
  } catch (e) {
    tf.dispose([...teacherOuts, ...grads.values(), loss, entropy]);
    throw e;
  }

  // clip_gradients on the whole batch's gradient (per parameter), then one AdamW step
  const clipped = h.clipGrad > 0 ? clipGradients(grads, h.clipGrad) : { grads, norms: null };
  clipped.norms?.dispose();
  state.optimizer.step(clipped.grads, s.lr, s.wd);
  for (const g of clipped.grads.values()) g.dispose();

  emaUpdate(teacher.params, student.params, s.momentum, (name) => isFrozenBackboneParam(name, freezeBlocks));
  // the centre follows the mean teacher output over the whole batch (every micro-batch's rows)
  const allTeacher = teacherOuts.length === 1 ? teacherOuts[0]! : tf.concat(teacherOuts, 0);
  updateCenter(center, allTeacher, h.centerMomentum);
  tf.dispose(allTeacher === teacherOuts[0] ? teacherOuts : [allTeacher, ...teacherOuts]);

  const values = tf.tidy(() => tf.stack([loss, entropy]));
  tf.dispose([loss, entropy]);
  // the read starts now, so its copy is queued before anything the caller queues next
  const result = readValues(values).then(([l, e]) => ({ loss: l!, teacherEntropy: e!, kl: l! - e! }));
  // handled here, so a step whose result nobody awaits (a cancelled run) rejects quietly
  result.finally(() => values.dispose()).catch(() => undefined);
  return result;
}
