import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { qualityScore } from '../../../src-shared/quality';
import type { DinoState } from '../../dino/step';
import { readWeights } from '../model-loader';
import { initBackend } from '../../dino/backend';
import type { CropSpec } from '../../dino/crops';
import type { DinoConfig } from '../../dino/presets';
import { Rng } from '../../dino/rng';
import { readSafetensors, writeSafetensors } from '../../dino/safetensors';
import { DivergedError, trainDino, type SourceImage, type StepMetrics, type TrainHooks, type TrainOptions as LoopOptions, type TrainResult } from '../../dino/trainer';
import { decodeRgb } from '../../library/decode';
import { coreSharing, threadCropper, type ThreadCropper } from '../crop-thread';
import { loadProbeSet, scoreNet, type LabelFreeScores, type ProbeSet } from '../label-free';
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
  /** the label-free quality sample (services/quality.ts), scored at the start and at every checkpoint */
  probe?: { items: { id: number; path: string }[]; views: number };
  /**
   * fine-tuning: the model file gets the teacher of the best-scoring checkpoint, and none when the
   * start scored best (the caller keeps the start model)
   */
  keepBest?: boolean;
  /** keepBest on a resumed run: the best score before it (its teacher is in the model file unless it is 0) */
  best?: { it: number; score: number };
  /** the start's scores when its weights were scored already on this sample (a model of the catalog) */
  startScores?: LabelFreeScores;
}

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
  let probeSet: ProbeSet | null = null;
  let best: { it: number; score: number } | null = d.best ?? null;
  const evaluate = async (state: DinoState, info: { it: number; totalSteps: number }): Promise<void> => {
    if (!d.probe) return;
    side.post({ type: 'phase', phase: 'scoring the label-free quality', done: info.it, total: info.totalSteps });
    let scores: LabelFreeScores;
    if (info.it === 0 && d.startScores) scores = d.startScores;
    else {
      probeSet ??= await loadProbeSet(d.probe.items, state.teacher.config.vit.imgSize, d.probe.views);
      scores = await scoreNet(state.teacher, probeSet);
    }
    side.post({ type: 'quality', it: info.it, scores });
    if (!d.keepBest || (best && qualityScore(scores) <= best.score)) return;
    // the start needs no file: the caller keeps the model it came from
    if (info.it > 0) await saveModelFile(d.modelFile, state.teacher, { steps: String(info.it), config: JSON.stringify(d.config) });
    best = { it: info.it, score: qualityScore(scores) };
  };
  const hooks: TrainHooks = {
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
    evaluate,
  };
  const options: LoopOptions = {
    numImages: images.length,
    checkpointEveryMs: d.checkpointEveryMs,
    resume,
    maxSteps: d.maxSteps,
    init: d.initFrom ? (state) => initFromWeights(state, d.initFrom!) : undefined,
    stopWhen: d.maxMs === undefined ? undefined : () => (budgetHit ||= Date.now() - started >= d.maxMs!),
    cropper: makeCropper,
  };
  let result: TrainResult;
  try {
    result = await trainDino(d.config, source, hooks, options);
  } catch (e) {
    // a fine-tune that blew up still has its best checkpoint (or its start) to keep
    const kept = best as { it: number } | null;
    if (!(e instanceof DivergedError) || !d.keepBest || !kept) throw e;
    return { steps: e.it, totalSteps: e.totalSteps, epochs: d.config.epochs, finalLoss, stoppedEarly: true, backend: backend.description, keptIt: kept.it, diverged: true };
  }
  try {
    const kept = best as { it: number } | null;
    if (!d.keepBest || !d.probe) await saveModelFile(d.modelFile, result.state.teacher, { steps: String(result.it), config: JSON.stringify(result.config) });
    return {
      steps: result.it,
      totalSteps: result.totalSteps,
      epochs: result.config.epochs,
      finalLoss,
      stoppedEarly: result.stoppedEarly,
      backend: backend.description,
      ...(d.keepBest && d.probe ? { keptIt: kept?.it ?? 0 } : {}),
    };
  } finally {
    result.dispose();
  }
});
