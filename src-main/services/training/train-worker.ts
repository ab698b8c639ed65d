import { existsSync } from 'node:fs';
import { trainOnSide, type TrainJobSettings, type TrainWorkerEvent, type TrainWorkerResult } from '../../compute/train-job';
import { initBackend } from '../../dino/runtime/node/backend';
import type { CropSpec } from '../../dino/train/crops';
import { readSafetensors, writeSafetensors } from '../../dino/weights/safetensors';
import { coreSharing, threadCropper, type ThreadCropper } from '../threads/crop-thread';
import { readWeights } from '../../dino/weights/model-loader';
import { decodeTrainingPhotos } from '../threads/decoded-photos';
import { loadProbeSet } from '../quality/probe-set';
import { workerMain } from '../threads/worker-side';

export type { TrainWorkerEvent, TrainWorkerResult } from '../../compute/train-job';
export { workingSide } from '../threads/decoded-photos';

export interface TrainWorkerData extends TrainJobSettings {
  items: { id: number; path: string }[];
  /** the training state, rewritten every checkpointEveryMs and at the end */
  stateFile: string;
  /** the teacher as an app model file, written at the end */
  modelFile: string;
  resume: boolean;
  /** fine-tuning: pretrained weights for student and teacher (head too when the file has one) */
  initFrom?: string;
  /** the label-free quality sample (quality/model-quality.ts), scored at the start and at every checkpoint */
  probe?: { items: { id: number; path: string }[]; views: number };
}

workerMain<TrainWorkerData, TrainWorkerEvent, TrainWorkerResult>(async (side) => {
  const d = side.data;
  const backend = await initBackend();
  side.post({ type: 'backend', description: backend.description });
  const images = await decodeTrainingPhotos(d.items, d.config, side);
  // DINO_CROP_THREAD=0 makes the crops on the training thread (to measure what the overlap gains)
  let cropper: ThreadCropper | null = null;
  const shareCores = coreSharing();
  const { summary, model } = await trainOnSide(side, d, {
    backend: backend.description,
    images,
    resume: d.resume && existsSync(d.stateFile) ? readSafetensors(d.stateFile) : undefined,
    init: d.initFrom ? () => readWeights(d.initFrom!).tensors : undefined,
    cropper: process.env.DINO_CROP_THREAD === '0' ? undefined : (spec: CropSpec) => (cropper = threadCropper(spec)),
    checkpoint: (state, info) => {
      writeSafetensors(d.stateFile, state.tensors, state.metadata);
      side.post({ type: 'checkpoint', it: info.it, final: info.final });
    },
    probeSet: d.probe ? (imgSize) => loadProbeSet(d.probe!.items, imgSize, d.probe!.views) : undefined,
    keepModel: (m) => writeSafetensors(d.modelFile, m.tensors, m.metadata),
    afterStep: (m) => {
      const n = shareCores(cropper, m.msPerStep);
      if (n !== null) {
        side.post({ type: 'backend', description: backend.description.replace(/\d+ threads?\)/, `${n} thread${n > 1 ? 's' : ''}, a core left to the crop worker)`) });
      }
    },
  });
  if (model) writeSafetensors(d.modelFile, model.tensors, model.metadata);
  return summary;
});
