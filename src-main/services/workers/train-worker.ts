import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import type { DinoState } from '../../dino/step';
import { readWeights } from '../model-loader';
import { initBackend } from '../../dino/backend';
import type { CropSpec } from '../../dino/crops';
import type { DinoConfig } from '../../dino/presets';
import { Rng } from '../../dino/rng';
import { readSafetensors, writeSafetensors } from '../../dino/safetensors';
import { trainDino, type SourceImage, type StepMetrics } from '../../dino/trainer';
import { decodeRgb } from '../../library/decode';
import { coreSharing, threadCropper, type ThreadCropper } from '../crop-thread';
import { saveModelFile } from '../model-files';
import { workerMain } from '../worker-side';

export interface TrainWorkerData {
  config: DinoConfig;
  items: { id: number; path: string }[];
  /** the training state, rewritten every checkpointEveryMs and at the end */
  stateFile: string;
  /** the teacher as an app model file, written at the end */
  modelFile: string;
  resume: boolean;
  /** fine-tuning: pretrained weights for student and teacher (head too when the file has one) */
  initFrom?: string;
  checkpointEveryMs: number;
  maxSteps?: number;
  /** a time budget: stop (and checkpoint) after this many ms of training */
  maxMs?: number;
}

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

/** Photos are decoded once at a working size (enough for the largest random crop) and kept in memory. */
export function workingSide(config: DinoConfig): number {
  return Math.max(2 * config.globalSize, 128);
}

/** Copies pretrained tensors into student and teacher; a head the file lacks keeps its fresh init. */
function initFromWeights(state: DinoState, file: string): void {
  const w = readWeights(file);
  for (const net of [state.student, state.teacher]) {
    for (const [name, v] of net.params) {
      const t = w.tensors.get(name);
      if (!t) {
        if (name.startsWith('head.')) continue;
        throw new Error(`the pretrained weights have no ${name}`);
      }
      if (t.shape.join(',') !== v.shape.join(',')) throw new Error(`${name}: pretrained shape [${t.shape}] differs from the model's [${v.shape}]`);
      tf.tidy(() => v.assign(tf.tensor(t.data, v.shape)));
    }
  }
}

workerMain<TrainWorkerData, TrainWorkerEvent, TrainWorkerResult>(async (side) => {
  const d = side.data;
  const backend = await initBackend();
  side.post({ type: 'backend', description: backend.description });

  const maxSide = workingSide(d.config);
  const images: SourceImage[] = [];
  for (let i = 0; i < d.items.length; i += 8) {
    await side.checkpoint();
    const chunk = d.items.slice(i, i + 8);
    const decoded = await Promise.all(
      chunk.map(async (it) => {
        try {
          const img = await decodeRgb(it.path, maxSide);
          return { id: it.id, rgb: img.data, width: img.width, height: img.height };
        } catch (e) {
          side.post({ type: 'skipped', id: it.id, reason: e instanceof Error ? e.message : String(e) });
          return null;
        }
      }),
    );
    for (const x of decoded) if (x) images.push(x);
    side.post({ type: 'phase', phase: 'decoding', done: Math.min(i + 8, d.items.length), total: d.items.length });
  }
  if (images.length < d.config.batchSize) {
    throw new Error(`Training needs at least ${d.config.batchSize} photos (one batch); this catalog has ${images.length}.`);
  }

  // a new order every epoch, reproducible from (seed, epoch) so a resumed run sees the same stream
  const source = (epoch: number, skip: number): AsyncIterable<SourceImage> => {
    const order = images.map((_, i) => i);
    const rng = new Rng((d.config.seed * 7919 + epoch * 104729 + 1) >>> 0);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rng.next() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    return (async function* () {
      for (const i of order.slice(skip)) yield images[i]!;
    })();
  };

  const resume = d.resume && existsSync(d.stateFile) ? readSafetensors(d.stateFile) : undefined;
  const started = Date.now();
  let finalLoss: number | null = null;
  let budgetHit = false;
  // DINO_CROP_THREAD=0 makes the crops on the training thread (to measure what the overlap gains)
  let cropper: ThreadCropper | null = null;
  const makeCropper = process.env.DINO_CROP_THREAD === '0' ? undefined : (spec: CropSpec) => (cropper = threadCropper(spec));
  const shareCores = coreSharing();
  const result = await trainDino(
    d.config,
    source,
    {
      onStep: (m) => {
        finalLoss = m.loss;
        side.post({ type: 'step', metrics: m });
        const n = shareCores(cropper, m.msPerStep);
        if (n !== null) {
          side.post({ type: 'backend', description: backend.description.replace(/\d+ threads?\)/, `${n} thread${n > 1 ? 's' : ''}, a core left to the crop worker)`) });
        }
      },
      checkpoint: (state, info) => {
        writeSafetensors(d.stateFile, state.tensors, state.metadata);
        side.post({ type: 'checkpoint', it: info.it, final: info.final });
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
      numImages: images.length,
      checkpointEveryMs: d.checkpointEveryMs,
      resume,
      maxSteps: d.maxSteps,
      init: d.initFrom ? (state) => initFromWeights(state, d.initFrom!) : undefined,
      stopWhen: d.maxMs === undefined ? undefined : () => (budgetHit ||= Date.now() - started >= d.maxMs!),
      cropper: makeCropper,
    },
  );
  try {
    await saveModelFile(d.modelFile, result.state.teacher, { steps: String(result.it), config: JSON.stringify(result.config) });
    return {
      steps: result.it,
      totalSteps: result.totalSteps,
      epochs: result.config.epochs,
      finalLoss,
      stoppedEarly: result.stoppedEarly,
      backend: backend.description,
    };
  } finally {
    result.dispose();
  }
});
