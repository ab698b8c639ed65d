/**
 * A training job's compute half, the same wherever it runs: in the training worker thread (photos
 * decoded there, crops from its crop thread, checkpoints written to disk) or in the Electron GPU window
 * (photos stay in the main process, crops come from its crop thread over the job's port, checkpoints
 * go back over it). Only what `TrainJobIo` holds differs.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BatchCropper, CropSpec } from '../dino/crops';
import type { NamedArray, SafetensorsContent } from '../dino/named-arrays';
import type { DinoConfig } from '../dino/presets';
import { Rng } from '../dino/rng';
import type { DinoState } from '../dino/step';
import { trainDino, type SourceImage, type StepMetrics } from '../dino/trainer';
import { modelFileContent } from './net-source';
import type { WorkerSide } from './protocol';

export type TrainWorkerEvent =
  | { type: 'backend'; description: string }
  | { type: 'phase'; phase: string; done: number; total: number }
  | { type: 'step'; metrics: StepMetrics }
  | { type: 'checkpoint'; it: number; final: boolean }
  | { type: 'skipped'; id: number; reason: string };

export interface TrainWorkerResult {
  steps: number;
  totalSteps: number;
  epochs: number;
  finalLoss: number | null;
  stoppedEarly: boolean;
  backend: string;
}

/** What a run is asked to do, whichever side runs it. */
export interface TrainJobSettings {
  config: DinoConfig;
  checkpointEveryMs: number;
  maxSteps?: number;
  /** a time budget: stop (and checkpoint) after this many ms of training */
  maxMs?: number;
}

/** What differs between the sides that run a training job. */
export interface TrainJobIo {
  backend: string;
  /** the catalog's photos in the catalog's order (the GPU window has their ids only: its crops come made) */
  images: SourceImage[];
  resume?: SafetensorsContent;
  /** fine-tuning: pretrained tensors for student and teacher (head too when they have one), read when a fresh run starts */
  init?: () => Map<string, NamedArray>;
  cropper?: (spec: CropSpec) => BatchCropper;
  /** keeps a checkpoint: a worker writes the file, the GPU window sends it to the main process */
  checkpoint(state: SafetensorsContent, info: { it: number; final: boolean }): void | Promise<void>;
  afterStep?(m: StepMetrics): void;
}

/** Copies pretrained tensors into student and teacher; a head the weights lack keeps its fresh init. */
export function initFromTensors(state: DinoState, tensors: Map<string, NamedArray>): void {
  for (const net of [state.student, state.teacher]) {
    for (const [name, v] of net.params) {
      const t = tensors.get(name);
      if (!t) {
        if (name.startsWith('head.')) continue;
        throw new Error(`the pretrained weights have no ${name}`);
      }
      if (t.shape.join(',') !== v.shape.join(',')) throw new Error(`${name}: pretrained shape [${t.shape}] differs from the model's [${v.shape}]`);
      tf.tidy(() => v.assign(tf.tensor(t.data, v.shape)));
    }
  }
}

/** A new order every epoch, reproducible from (seed, epoch) so a resumed run sees the same stream. */
export function epochSource(images: readonly SourceImage[], seed: number): (epoch: number, skip: number) => AsyncIterable<SourceImage> {
  return (epoch, skip) => {
    const order = images.map((_, i) => i);
    const rng = new Rng((seed * 7919 + epoch * 104729 + 1) >>> 0);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rng.next() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    return (async function* () {
      for (const i of order.slice(skip)) yield images[i]!;
    })();
  };
}

/**
 * Trains on `io.images` with pause and cancel from the job's side, and returns the summary and the
 * teacher as model-file content (the caller writes it, or sends it to the main process to write).
 */
export async function trainOnSide(
  side: WorkerSide<unknown, TrainWorkerEvent>,
  s: TrainJobSettings,
  io: TrainJobIo,
): Promise<{ summary: TrainWorkerResult; model: SafetensorsContent }> {
  if (io.images.length < s.config.batchSize) {
    throw new Error(`Training needs at least ${s.config.batchSize} photos (one batch); this catalog has ${io.images.length}.`);
  }
  const started = Date.now();
  let finalLoss: number | null = null;
  let budgetHit = false;
  const result = await trainDino(
    s.config,
    epochSource(io.images, s.config.seed),
    {
      onStep: (m) => {
        finalLoss = m.loss;
        side.post({ type: 'step', metrics: m });
        io.afterStep?.(m);
      },
      checkpoint: async (state, info) => {
        await io.checkpoint(state, { it: info.it, final: info.final });
      },
      beforeStep: async () => {
        try {
          await side.checkpoint();
        } catch {
          const e = new Error('training cancelled');
          e.name = 'AbortError';
          throw e;
        }
      },
      shouldPause: () => false,
    },
    {
      numImages: io.images.length,
      checkpointEveryMs: s.checkpointEveryMs,
      resume: io.resume,
      maxSteps: s.maxSteps,
      init: io.init ? (state) => initFromTensors(state, io.init!()) : undefined,
      stopWhen: s.maxMs === undefined ? undefined : () => (budgetHit ||= Date.now() - started >= s.maxMs!),
      cropper: io.cropper,
    },
  );
  try {
    const model = await modelFileContent(result.state.teacher, { steps: String(result.it), config: JSON.stringify(result.config) });
    const summary: TrainWorkerResult = {
      steps: result.it,
      totalSteps: result.totalSteps,
      epochs: result.config.epochs,
      finalLoss,
      stoppedEarly: result.stoppedEarly,
      backend: io.backend,
    };
    return { summary, model };
  } finally {
    result.dispose();
  }
}
