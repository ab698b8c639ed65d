/**
 * A training job's compute half, the same wherever it runs: in the training worker thread (photos
 * decoded there, crops from its crop thread, checkpoints written to disk) or in the Electron GPU window
 * (photos stay in the main process, crops come from its crop thread over the job's port, checkpoints
 * go back over it). Only what `TrainJobIo` holds differs.
 */
import * as tf from '@tensorflow/tfjs-core';
import { qualityScore } from '../../src-shared/quality';
import type { BatchCropper, CropSpec } from '../dino/train/crops';
import type { NamedArray, SafetensorsContent } from '../dino/named-arrays';
import type { DinoConfig } from '../dino/train/presets';
import { Rng } from '../dino/rng';
import type { DinoState } from '../dino/train/step';
import { abortError, trainDino, type SourceImage, type TrainResult } from '../dino/train/trainer';
import { DivergedError, type StepMetrics } from '../dino/train/step-metrics';
import { scoreNet, type LabelFreeScores, type ProbeSet } from './label-free-score';
import { modelFileContent } from '../dino/weights/net-source';
import type { WorkerSide } from './protocol';

export type TrainWorkerEvent =
  | { type: 'backend'; description: string }
  | { type: 'phase'; phase: string; done: number; total: number }
  | { type: 'step'; metrics: StepMetrics }
  | { type: 'checkpoint'; it: number; final: boolean }
  | { type: 'quality'; it: number; scores: LabelFreeScores }
  | { type: 'skipped'; id: number; reason: string };

export interface TrainWorkerResult {
  steps: number;
  totalSteps: number;
  epochs: number;
  finalLoss: number | null;
  stoppedEarly: boolean;
  backend: string;
  /** keepBest: the iteration whose teacher is in the model file (0: the start won, no file written) */
  keptIt?: number;
  /** keepBest: the loss went non-finite and the run stopped there, keeping the best checkpoint before */
  diverged?: boolean;
}

/** What a run is asked to do, whichever side runs it. */
export interface TrainJobSettings {
  config: DinoConfig;
  checkpointEveryMs: number;
  maxSteps?: number;
  /** a time budget: stop (and checkpoint) after this many ms of training */
  maxMs?: number;
  /**
   * fine-tuning: the model file gets the teacher of the best-scoring checkpoint (label-free, scored on
   * io.probeSet), and none when the start scored best (the caller keeps the start model)
   */
  keepBest?: boolean;
  /** keepBest on a resumed run: the best score before it (its teacher is in the model file unless it is 0) */
  best?: { it: number; score: number };
  /** the start's scores when its weights were scored already on this sample (a model of the catalog) */
  startScores?: LabelFreeScores;
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
  /**
   * The label-free sample decoded for a network of this input size; when given, the run scores its
   * start and every checkpoint (a worker decodes it, the GPU window asks the main process for it).
   */
  probeSet?(imgSize: number): Promise<ProbeSet>;
  /** keepBest: keeps the teacher of the best checkpoint so far as the model file (written, or sent to be) */
  keepModel?(model: SafetensorsContent, it: number): void | Promise<void>;
}

/** Copies pretrained tensors into student and teacher; a head the weights lack keeps its fresh init. */
function initFromTensors(state: DinoState, tensors: Map<string, NamedArray>): void {
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
function epochSource(images: readonly SourceImage[], seed: number): (epoch: number, skip: number) => AsyncIterable<SourceImage> {
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
): Promise<{ summary: TrainWorkerResult; model: SafetensorsContent | null }> {
  if (io.images.length < s.config.batchSize) {
    throw new Error(`Training needs at least ${s.config.batchSize} photos (one batch); this catalog has ${io.images.length}.`);
  }
  const started = Date.now();
  let finalLoss: number | null = null;
  let budgetHit = false;
  const keepBest = io.probeSet !== undefined && s.keepBest === true;
  let probeSet: ProbeSet | null = null;
  let best: { it: number; score: number } | null = s.best ?? null;
  const evaluate = async (state: DinoState, info: { it: number; totalSteps: number }): Promise<void> => {
    if (!io.probeSet) return;
    side.post({ type: 'phase', phase: 'scoring the label-free quality', done: info.it, total: info.totalSteps });
    let scores: LabelFreeScores;
    if (info.it === 0 && s.startScores) scores = s.startScores;
    else {
      probeSet ??= await io.probeSet(state.teacher.config.vit.imgSize);
      scores = await scoreNet(state.teacher, probeSet);
    }
    side.post({ type: 'quality', it: info.it, scores });
    if (!keepBest || (best && qualityScore(scores) <= best.score)) return;
    // the start needs no file: the caller keeps the model it came from
    if (info.it > 0) await io.keepModel?.(await modelFileContent(state.teacher, { steps: String(info.it), config: JSON.stringify(s.config) }), info.it);
    best = { it: info.it, score: qualityScore(scores) };
  };
  let result: TrainResult;
  try {
    result = await trainDino(
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
            throw abortError();
          }
        },
        evaluate,
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
  } catch (e) {
    // a fine-tune that blew up still has its best checkpoint (or its start) to keep
    const kept = best as { it: number } | null;
    if (!(e instanceof DivergedError) || !keepBest || !kept) throw e;
    const summary: TrainWorkerResult = {
      steps: e.it, totalSteps: e.totalSteps, epochs: s.config.epochs, finalLoss, stoppedEarly: true, backend: io.backend, keptIt: kept.it, diverged: true,
    };
    return { summary, model: null };
  }
  try {
    // keepBest: the model file holds the best checkpoint's teacher already (or none: the start won)
    const model = keepBest ? null : await modelFileContent(result.state.teacher, { steps: String(result.it), config: JSON.stringify(result.config) });
    const kept = best as { it: number } | null;
    const summary: TrainWorkerResult = {
      steps: result.it,
      totalSteps: result.totalSteps,
      epochs: result.config.epochs,
      finalLoss,
      stoppedEarly: result.stoppedEarly,
      backend: io.backend,
      ...(keepBest ? { keptIt: kept?.it ?? 0 } : {}),
    };
    return { summary, model };
  } finally {
    result.dispose();
  }
}
