/**
 * Times DINO training steps for a config on the active backend with synthetic crops (no data
 * loading), for benchmarks and for the "time per epoch per 1000 photos" shown with each preset.
 */
import * as tf from '@tensorflow/tfjs-core';
import { buildSchedules } from '../../train/schedules';
import type { DinoConfig } from '../../train/presets';
import { Rng } from '../../rng';
import { dinoStepAccumulated, disposeState } from '../../train/step';
import { createTrainState, normalizeConfig, stepHyper } from '../../train/trainer';

export interface StepTiming {
  msPerStep: number;
  imgPerSec: number;
  /** seconds one epoch of 1000 photos takes at this speed (compute only) */
  secondsPerEpochPer1000: number;
  /** process peak RSS in MB so far */
  peakRssMb: number;
  /** wasm / tfjs bytes in use after the steps */
  tfBytesMb: number;
  /** on webgpu: the most GPU memory tfjs's buffer pool held (it reuses freed buffers and keeps them) */
  gpuAllocatedMb?: number;
}

function randomCrops(n: number, size: number, rng: Rng): tf.Tensor4D {
  const a = new Float32Array(n * size * size * 3);
  for (let i = 0; i < a.length; i++) a[i] = rng.normal();
  return tf.tensor4d(a, [n, size, size, 3]);
}

/**
 * Runs `warmup` untimed then `steps` timed iterations (their mean reported). With accumSteps > 1 an
 * iteration is accumSteps micro-batches (the same synthetic crops each time) and one optimizer step.
 * As in training, a step is queued before the one before it is read, so a GPU never waits on a read.
 */
export async function measureTrainStep(configIn: DinoConfig, steps = 3, warmup = 1): Promise<StepTiming> {
  const config = normalizeConfig(configIn);
  const state = createTrainState(config);
  const rng = new Rng(1);
  const b = config.batchSize;
  const mb = b / config.accumSteps;
  const globals = randomCrops(2 * mb, config.globalSize, rng);
  const locals = config.nLocal > 0 ? randomCrops(config.nLocal * mb, config.localSize, rng) : undefined;
  const micro = Array.from({ length: config.accumSteps }, () => ({ globals, locals }));
  // two short epochs of schedule (no warmup longer than the run: the values do not matter for timing)
  const sched = buildSchedules({ ...config, epochs: 2, warmupEpochs: 0, warmupTeacherTempEpochs: 0 }, steps + warmup);
  let ms: number;
  const step = (i: number) =>
    dinoStepAccumulated(
      state,
      micro,
      // epoch 1: past the frozen last layer, so the timed step does all the work
      { epoch: 1, lr: sched.lr[i]!, wd: sched.wd[i]!, momentum: sched.momentum[i]!, teacherTemp: config.teacherTemp },
      stepHyper(config),
    );
  try {
    for (let i = 0; i < warmup; i++) await step(i);
    const t0 = performance.now();
    let before: Promise<unknown> | null = null;
    for (let i = warmup; i < steps + warmup; i++) {
      const queued = step(i);
      await before;
      before = queued;
    }
    await before;
    ms = (performance.now() - t0) / steps;
  } finally {
    globals.dispose();
    locals?.dispose();
    disposeState(state);
  }
  return {
    msPerStep: ms,
    imgPerSec: (b * 1000) / ms,
    secondsPerEpochPer1000: ((1000 / b) * ms) / 1000,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    tfBytesMb: tf.memory().numBytes / 2 ** 20,
    ...gpuMemory(),
  };
}

/** tfjs-backend-webgpu's pool size, when on webgpu (it never gives buffers back: its size is the peak). */
export function gpuMemory(): { gpuAllocatedMb?: number } {
  const m = tf.memory() as tf.MemoryInfo & { numBytesAllocatedInGPU?: number };
  return m.numBytesAllocatedInGPU === undefined ? {} : { gpuAllocatedMb: m.numBytesAllocatedInGPU / 2 ** 20 };
}
