/**
 * The training loop of main_dino.py (train_one_epoch) over photos from an async source: per step a
 * batch of images becomes 2 global + nLocal local crops, then one DINO iteration (step.ts) with this
 * iteration's lr, weight decay, teacher momentum and the epoch's teacher temperature. With accumSteps
 * > 1 the batch is cut into that many micro-batches that share the iteration's one optimizer step
 * (the crops are the same as without: the RNG is drawn image by image either way). Reports metrics
 * every step, watches for collapse, checkpoints on a timer and at the end, and resumes exactly
 * (same schedules, same crops: crops.ts) from a checkpoint.
 *
 * On an asynchronous backend (webgpu) a step's metrics are read one step behind (step-metrics.ts):
 * step i + 1 is queued before step i's loss is awaited, so the GPU always has work while the loop
 * waits, prepares crops or reports. Elsewhere a step has run when it returns, and its metrics are
 * reported at once.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { MultiCropConfig, RgbImage } from './augment';
import { cropIteration, inlineCropper, RNG_STREAM, stepSeed, type BatchCropper, type CropArrays, type CropSpec } from './crops';
import { checkpointConfig, restoreState, stateToCheckpoint } from './checkpoint';
import { gpuFailure } from '../runtime/gpu-errors';
import { imageBatch } from '../runtime/image-batch';
import { netConfigs } from './net-configs';
import { cloneNet, createNet } from '../model/net';
import { ADDED_FIELDS, OFFICIAL_VIT_S16, checkConfigLimits, type DinoConfig } from './presets';
import { Rng } from '../rng';
import type { SafetensorsContent } from '../named-arrays';
import { buildSchedules, type Schedules } from './schedules';
import { createState, dinoStepAccumulated, disposeState, type DinoState, type MicroBatch, type StepHyper, type StepResult, type StepSchedule } from './step';
import { StepReporter, type StepMetrics } from './step-metrics';

export interface SourceImage extends RgbImage {
  id: number;
}

export interface TrainHooks {
  onStep?(m: StepMetrics): void | Promise<void>;
  /** called every checkpointEveryMs and at the end with the full state; write it with writeSafetensors */
  checkpoint?(state: SafetensorsContent, info: { it: number; epoch: number; final: boolean }): void | Promise<void>;
  signal?: AbortSignal;
  /** awaited before each step (e.g. a job's checkpoint(), which waits while paused and throws when cancelled) */
  beforeStep?(): Promise<void>;
  /**
   * called with the live state where the run can be judged: before the first step of a fresh run
   * (it 0: the start, e.g. the pretrained weights a fine-tune begins from) and after every checkpoint
   */
  evaluate?(state: DinoState, info: { it: number; totalSteps: number; final: boolean }): void | Promise<void>;
}

export interface TrainOptions {
  /** photos the source yields per epoch (fixes the schedules' length; drop_last as the official loader) */
  numImages: number;
  checkpointEveryMs?: number | undefined;
  /** steps in a row with the teacher entropy in a collapse zone before it is reported */
  collapseWindow?: number;
  /** continue a run from this checkpoint (its config wins over `config`) */
  resume?: SafetensorsContent | undefined;
  /** stop after this many iterations in this call (tests, benchmarks); the schedules stay the full run's */
  maxSteps?: number | undefined;
  /** polled before each step: true stops the run early (e.g. a time budget), with a checkpoint */
  stopWhen?: (() => boolean) | undefined;
  /** a fresh run's start (fine-tuning): sets student and teacher from pretrained weights */
  init?: ((state: DinoState) => void) | undefined;
  /** makes the crops (default: on this thread when asked); a worker-thread one overlaps them with the step */
  cropper?: ((spec: CropSpec) => BatchCropper) | undefined;
}

export interface TrainResult {
  state: DinoState;
  config: DinoConfig;
  /** iterations done in total */
  it: number;
  totalSteps: number;
  stoppedEarly: boolean;
  dispose(): void;
}

export function multiCropConfig(c: DinoConfig): MultiCropConfig {
  return {
    globalSize: c.globalSize,
    localSize: c.localSize,
    nLocal: c.nLocal,
    globalScale: [c.globalScaleMin, c.globalScaleMax],
    localScale: [c.localScaleMin, c.localScaleMax],
    interpolation: c.interpolation,
    colorJitterProb: c.colorJitterProb,
    blurAmount: c.blurAmount,
    solarizeProb: c.solarizeProb,
    grayscaleProb: c.grayscaleProb,
  };
}

/**
 * Fills in fields a config saved before they existed lacks (a checkpoint's or a run's JSON) and checks
 * the accumulation and freezing settings against the batch and the network.
 */
export function normalizeConfig(c: DinoConfig): DinoConfig {
  const filled = { ...c } as Record<string, unknown>;
  // the official value is what every run before the field existed used
  for (const k of ADDED_FIELDS) if (filled[k] === undefined) filled[k] = OFFICIAL_VIT_S16[k];
  const out = filled as unknown as DinoConfig;
  // whole numbers and ranges are CONFIG_LIMITS'; what is left depends on other fields
  checkConfigLimits(out);
  if (out.batchSize % out.accumSteps !== 0) {
    throw new Error(`accumSteps (${out.accumSteps}) must be a whole divisor of batchSize (${out.batchSize})`);
  }
  const depth = netConfigs(out).student.vit.depth;
  if (out.freezeBlocks > depth) {
    throw new Error(`freezeBlocks (${out.freezeBlocks}) must be a whole number from 0 to the depth (${depth})`);
  }
  return out;
}

/** The per-step constants of a config, as dinoStep takes them. */
export function stepHyper(config: DinoConfig): StepHyper {
  return {
    nCrops: 2 + config.nLocal,
    studentTemp: config.studentTemp,
    centerMomentum: config.centerMomentum,
    clipGrad: config.clipGrad,
    freezeLastLayer: config.freezeLastLayer,
    freezeBlocks: config.freezeBlocks,
  };
}

/** A fresh student (official init) and a teacher that starts as its copy. */
export function createTrainState(config: DinoConfig): DinoState {
  const nets = netConfigs(config);
  const student = createNet(nets.student, new Rng(config.seed ^ 0x5eed));
  const teacher = cloneNet(student, nets.teacher);
  return createState(student, teacher);
}

/** Iteration `it`'s crops of `images` as one batch of crop-major tensors (profiling, benchmarks). */
export function makeBatch(images: RgbImage[], crops: MultiCropConfig, seed: number, it: number): MicroBatch {
  return toMicroBatch(cropIteration(images, { crops, seed, microSize: images.length }, it)[0]!, crops);
}

function toMicroBatch(c: CropArrays, cfg: MultiCropConfig): MicroBatch {
  const globals = imageBatch(c.globals, [2 * c.batch, cfg.globalSize, cfg.globalSize, 3]);
  if (!c.locals) return { globals };
  return { globals, locals: imageBatch(c.locals, [cfg.nLocal * c.batch, cfg.localSize, cfg.localSize, 3]) };
}

/** The error a cancelled run ends with (the loop keeps a checkpoint for it); a beforeStep hook may throw it too. */
export function abortError(): Error {
  const e = new Error('training cancelled');
  e.name = 'AbortError';
  return e;
}

interface PlannedBatch {
  epoch: number;
  /** the iteration this batch is for */
  it: number;
  images: SourceImage[];
}

/** Backends whose ops run when queued, not when read: their steps are read one step behind. */
function readsLag(): boolean {
  return tf.getBackend() === 'webgpu';
}

/**
 * The run's batches from iteration `startIt` on, across epochs: a resumed run starts mid-epoch, so
 * the source skips the photos that epoch already used; a short final batch is dropped (drop_last), and
 * a source that runs short still ends its epoch where the schedules expect it.
 */
async function* plannedBatches(
  source: (epoch: number, skip: number) => AsyncIterable<SourceImage>,
  startIt: number,
  itersPerEpoch: number,
  epochs: number,
  batchSize: number,
): AsyncGenerator<PlannedBatch> {
  for (let epoch = Math.floor(startIt / itersPerEpoch); epoch < epochs; epoch++) {
    let it = Math.max(startIt, epoch * itersPerEpoch);
    let images: SourceImage[] = [];
    for await (const img of source(epoch, (it - epoch * itersPerEpoch) * batchSize)) {
      images.push(img);
      if (images.length < batchSize) continue;
      yield { epoch, it, images };
      images = [];
      if (++it >= (epoch + 1) * itersPerEpoch) break;
    }
  }
}

/** A run's fixed plan: the config (a resumed run's own), where it starts, and its schedules. */
interface RunPlan {
  config: DinoConfig;
  /** photos per epoch (a resumed run keeps its own: the schedules are a function of it) */
  numImages: number;
  startIt: number;
  itersPerEpoch: number;
  totalSteps: number;
  sched: Schedules;
}

function planRun(configIn: DinoConfig, opts: TrainOptions): RunPlan {
  const ck = opts.resume ? checkpointConfig(opts.resume) : null;
  const config = normalizeConfig(ck?.config ?? configIn);
  const numImages = ck?.progress.numImages ?? opts.numImages;
  const itersPerEpoch = Math.floor(numImages / config.batchSize);
  return {
    config,
    numImages,
    startIt: ck?.progress.it ?? 0,
    itersPerEpoch,
    totalSteps: config.epochs * itersPerEpoch,
    sched: buildSchedules(config, itersPerEpoch),
  };
}

/** Iteration `it`'s schedule values, as the step takes them. */
function stepSchedule(plan: RunPlan, it: number, epoch: number): StepSchedule {
  const { config, sched } = plan;
  return {
    epoch,
    lr: sched.lr[it]!,
    wd: sched.wd[it]!,
    momentum: sched.momentum[it]!,
    teacherTemp: sched.teacherTemp[epoch]!,
    dropPathRng: config.dropPathRate > 0 ? new Rng(stepSeed(config.seed, it, RNG_STREAM.dropPath)) : undefined,
  };
}

/**
 * Trains. `source(epoch, skip)` yields the epoch's photos (shuffled as the caller likes, the same order
 * for the same epoch if a resumed run is to repeat the original exactly), starting at photo `skip`.
 * The crops of the next step are asked for before the current step runs, so a cropper that works in
 * another thread (opts.cropper) overlaps them with the step.
 */
export async function trainDino(
  configIn: DinoConfig,
  source: (epoch: number, skip: number) => AsyncIterable<SourceImage>,
  hooks: TrainHooks,
  opts: TrainOptions,
): Promise<TrainResult> {
  const plan = planRun(configIn, opts);
  const { config, startIt, itersPerEpoch, totalSteps } = plan;
  const state = createTrainState(config);
  if (opts.resume) restoreState(state, opts.resume);
  else opts.init?.(state);
  const crops = multiCropConfig(config);
  const hyper = stepHyper(config);
  const result: TrainResult = {
    state,
    config,
    it: startIt,
    totalSteps,
    stoppedEarly: false,
    dispose: () => disposeState(state),
  };
  const save = async (final: boolean) => {
    if (!hooks.checkpoint) return;
    const ck = await stateToCheckpoint(state, config, { it: result.it, numImages: plan.numImages });
    await hooks.checkpoint(ck, { it: result.it, epoch: Math.floor(result.it / itersPerEpoch), final });
  };
  const reporter = new StepReporter({
    totalSteps,
    sched: plan.sched,
    outDim: config.outDim,
    collapseWindow: opts.collapseWindow ?? 20,
    checkpointEveryMs: opts.checkpointEveryMs,
    onStep: hooks.onStep,
    checkpoint: async (it) => {
      await save(false);
      await hooks.evaluate?.(state, { it, totalSteps, final: false });
    },
  });

  const batches = plannedBatches(source, startIt, itersPerEpoch, config.epochs, config.batchSize);
  const cropper = (opts.cropper ?? inlineCropper)({ crops, seed: config.seed, microSize: config.batchSize / config.accumSteps });
  const ask = async (): Promise<{ batch: PlannedBatch; crops: Promise<CropArrays[]> } | null> => {
    const n = await batches.next();
    if (n.done) return null;
    const p = cropper.make(n.value.images, n.value.it);
    p.catch(() => undefined); // a prefetch nobody awaits (a cancelled run) must not reject unhandled
    return { batch: n.value, crops: p };
  };
  let stepsThisCall = 0;

  try {
    if (!opts.resume) await reporter.outsideClock(() => hooks.evaluate?.(state, { it: 0, totalSteps, final: false }));
    const tFirst = performance.now();
    let next = await ask();
    // the first step also waits for its own crops
    let carriedMs = performance.now() - tFirst;
    while (next) {
      if ((opts.maxSteps !== undefined && stepsThisCall >= opts.maxSteps) || opts.stopWhen?.()) {
        result.stoppedEarly = true;
        break;
      }
      await reporter.outsideClock(() => hooks.beforeStep?.());
      if (hooks.signal?.aborted) throw abortError();

      const t0 = performance.now();
      const { batch, crops: pending } = next;
      const parts = await pending;
      // the next step's crops are made while this one runs
      next = await ask();
      const micro = parts.map((c) => toMicroBatch(c, crops));
      const dataMs = performance.now() - t0 + carriedMs;
      carriedMs = 0;

      const { it, epoch } = batch;
      let stepResult: Promise<StepResult>;
      try {
        stepResult = dinoStepAccumulated(state, micro, stepSchedule(plan, it, epoch), hyper);
      } finally {
        for (const mb of micro) tf.dispose(mb.locals ? [mb.globals, mb.locals] : [mb.globals]);
      }
      result.it = it + 1;
      stepsThisCall++;
      await reporter.queued({ epoch, it, batchSize: batch.images.length, result: stepResult, dataMs }, readsLag());
    }
    await reporter.drain();
    // a source that ran short still ends the run where the schedules expect it
    if (!result.stoppedEarly) result.it = totalSteps;
    await save(!result.stoppedEarly);
    await hooks.evaluate?.(state, { it: result.it, totalSteps, final: true });
    return result;
  } catch (e) {
    // keep what was learnt: a cancelled run can be resumed from here (a GPU failure leaves the state
    // unreadable, and the last checkpoint is what is kept then)
    if ((e as Error).name === 'AbortError' || (e as Error).name === 'CancelledError') {
      const drained = await reporter.drain().then(
        () => true,
        () => false,
      );
      if (drained && !gpuFailure()) await save(false).catch(() => undefined);
    }
    disposeState(state);
    throw e;
  } finally {
    cropper.close();
    await batches.return(undefined);
  }
}
