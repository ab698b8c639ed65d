/**
 * The training loop of main_dino.py (train_one_epoch) over photos from an async source: per step a
 * batch of images becomes 2 global + nLocal local crops, then one DINO iteration (step.ts) with this
 * iteration's lr, weight decay, teacher momentum and the epoch's teacher temperature. With accumSteps
 * > 1 the batch is cut into that many micro-batches that share the iteration's one optimizer step
 * (the crops are the same as without: the RNG is drawn image by image either way). Reports metrics
 * every step, watches for collapse, checkpoints on a timer and at the end, and resumes exactly
 * (same schedules, same crops: crops.ts) from a checkpoint.
 *
 * On an asynchronous backend (webgpu) a step's metrics are read one step behind: step i + 1 is queued
 * before step i's loss is awaited, so the GPU always has work while the loop waits, prepares crops or
 * reports. Elsewhere a step has run when it returns, and its metrics are reported at once.
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
import { createState, dinoStepAccumulated, disposeState, type DinoState, type MicroBatch, type StepHyper, type StepResult } from './step';

export interface SourceImage extends RgbImage {
  id: number;
}

export type Collapse = 'uniform' | 'one-prototype' | null;

export interface StepMetrics {
  epoch: number;
  /** iterations done, 1-based */
  step: number;
  totalSteps: number;
  loss: number;
  lr: number;
  wd: number;
  momentum: number;
  teacherTemp: number;
  teacherEntropy: number;
  klTeacherStudent: number;
  imgPerSec: number;
  /** share of the step spent getting images and making crops */
  dataWaitFraction: number;
  etaSeconds: number | null;
  collapse: Collapse;
  msPerStep: number;
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

/** Collapse watch: the teacher's entropy near log K (uniform) or near 0 (one prototype) for `window` steps. */
export class CollapseWatch {
  private uniform = 0;
  private single = 0;
  constructor(
    private readonly k: number,
    private readonly window: number,
  ) {}
  update(entropy: number): Collapse {
    const logK = Math.log(this.k);
    this.uniform = entropy >= 0.98 * logK ? this.uniform + 1 : 0;
    this.single = entropy <= 0.05 * logK ? this.single + 1 : 0;
    if (this.uniform >= this.window) return 'uniform';
    if (this.single >= this.window) return 'one-prototype';
    return null;
  }
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

/** The loss went non-finite: the run cannot go on (a lower lr or a higher teacher temperature may). */
export class DivergedError extends Error {
  override name = 'DivergedError';
  constructor(
    readonly it: number,
    readonly totalSteps: number,
    loss: number,
  ) {
    super(`loss is ${loss} at iteration ${it}: lower the lr or raise the teacher temperature`);
  }
}

function abortError(): Error {
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

/** A queued step whose metrics are not reported yet. */
interface InFlight extends PlannedBatch {
  result: Promise<StepResult>;
  /** time spent waiting for its photos and crops */
  dataMs: number;
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
  let config = configIn;
  let startIt = 0;
  if (opts.resume) {
    const ck = checkpointConfig(opts.resume);
    config = ck.config;
    startIt = ck.progress.it;
    if (ck.progress.numImages !== opts.numImages) {
      // the schedules are a function of the photo count; keep the run's own to stay continuous
      opts = { ...opts, numImages: ck.progress.numImages };
    }
  }
  config = normalizeConfig(config);
  const itersPerEpoch = Math.floor(opts.numImages / config.batchSize);
  const sched: Schedules = buildSchedules(config, itersPerEpoch);
  const totalSteps = config.epochs * itersPerEpoch;
  const state = createTrainState(config);
  if (opts.resume) restoreState(state, opts.resume);
  else opts.init?.(state);
  const crops = multiCropConfig(config);
  const cropSpec: CropSpec = { crops, seed: config.seed, microSize: config.batchSize / config.accumSteps };
  const hyper = stepHyper(config);
  const watch = new CollapseWatch(config.outDim, opts.collapseWindow ?? 20);
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
    const ck = await stateToCheckpoint(state, config, { it: result.it, numImages: opts.numImages });
    await hooks.checkpoint(ck, { it: result.it, epoch: Math.floor(result.it / itersPerEpoch), final });
  };

  const batches = plannedBatches(source, startIt, itersPerEpoch, config.epochs, config.batchSize);
  const cropper = (opts.cropper ?? inlineCropper)(cropSpec);
  const ask = async (): Promise<{ batch: PlannedBatch; crops: Promise<CropArrays[]> } | null> => {
    const n = await batches.next();
    if (n.done) return null;
    const p = cropper.make(n.value.images, n.value.it);
    p.catch(() => undefined); // a prefetch nobody awaits (a cancelled run) must not reject unhandled
    return { batch: n.value, crops: p };
  };
  let lastSave = Date.now();
  let stepsThisCall = 0;
  let emaStepMs = 0;
  // the loop's clock runs only while it trains: hooks (reporting, pausing, checkpoints) are left out
  let hookMs = 0;
  const outsideClock = async <T>(f: () => T | Promise<T>): Promise<T> => {
    const t = performance.now();
    try {
      return await f();
    } finally {
      hookMs += performance.now() - t;
    }
  };
  const clock = () => performance.now() - hookMs;
  let lastReported = clock();
  let inFlight: InFlight | null = null;

  const report = async (step: InFlight): Promise<void> => {
    const r = await step.result;
    const now = clock();
    const ms = now - lastReported;
    lastReported = now;
    const { it, epoch, images } = step;
    emaStepMs = emaStepMs ? 0.9 * emaStepMs + 0.1 * ms : ms;
    const m: StepMetrics = {
      epoch,
      step: it + 1,
      totalSteps,
      loss: r.loss,
      lr: sched.lr[it]!,
      wd: sched.wd[it]!,
      momentum: sched.momentum[it]!,
      teacherTemp: sched.teacherTemp[epoch]!,
      teacherEntropy: r.teacherEntropy,
      klTeacherStudent: r.kl,
      imgPerSec: (images.length * 1000) / ms,
      dataWaitFraction: Math.min(1, step.dataMs / ms),
      etaSeconds: ((totalSteps - it - 1) * emaStepMs) / 1000,
      collapse: watch.update(r.teacherEntropy),
      msPerStep: ms,
    };
    if (!Number.isFinite(r.loss)) throw new DivergedError(it, totalSteps, r.loss);
    await outsideClock(() => hooks.onStep?.(m));
    if (opts.checkpointEveryMs !== undefined && Date.now() - lastSave >= opts.checkpointEveryMs) {
      await outsideClock(async () => {
        await save(false);
        await hooks.evaluate?.(state, { it: it + 1, totalSteps, final: false });
      });
      lastSave = Date.now();
    }
  };
  const reportInFlight = async (): Promise<void> => {
    const step = inFlight;
    inFlight = null;
    if (step) await report(step);
  };

  try {
    if (!opts.resume) await hooks.evaluate?.(state, { it: 0, totalSteps, final: false });
    const tFirst = performance.now();
    let next = await ask();
    // the first step also waits for its own crops
    let carriedMs = performance.now() - tFirst;
    while (next) {
      if ((opts.maxSteps !== undefined && stepsThisCall >= opts.maxSteps) || opts.stopWhen?.()) {
        result.stoppedEarly = true;
        break;
      }
      await outsideClock(async () => {
        await hooks.beforeStep?.();
      });
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
        stepResult = dinoStepAccumulated(
          state,
          micro,
          {
            epoch,
            lr: sched.lr[it]!,
            wd: sched.wd[it]!,
            momentum: sched.momentum[it]!,
            teacherTemp: sched.teacherTemp[epoch]!,
            dropPathRng: config.dropPathRate > 0 ? new Rng(stepSeed(config.seed, it, RNG_STREAM.dropPath)) : undefined,
          },
          hyper,
        );
      } finally {
        for (const mb of micro) tf.dispose(mb.locals ? [mb.globals, mb.locals] : [mb.globals]);
      }
      result.it = it + 1;
      stepsThisCall++;
      // this step is queued: report the one before it while the device runs this one
      await reportInFlight();
      inFlight = { ...batch, result: stepResult, dataMs };
      if (!readsLag()) await reportInFlight();
    }
    await reportInFlight();
    // a source that ran short still ends the run where the schedules expect it
    if (!result.stoppedEarly) result.it = totalSteps;
    await save(!result.stoppedEarly);
    await hooks.evaluate?.(state, { it: result.it, totalSteps, final: true });
    return result;
  } catch (e) {
    // keep what was learnt: a cancelled run can be resumed from here (a GPU failure leaves the state
    // unreadable, and the last checkpoint is what is kept then)
    if ((e as Error).name === 'AbortError' || (e as Error).name === 'CancelledError') {
      const drained = await reportInFlight().then(
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
