import { existsSync } from 'node:fs';
import { fromWire, toWire, type GpuRequest, type GpuTrainData, type GpuTrainEvent, type GpuTrainResult } from '../compute/gpu-jobs';
import type { TrainWorkerEvent, TrainWorkerResult } from '../compute/train-job';
import { inlineCropper, type BatchCropper } from '../dino/train/crops';
import { readSafetensors, writeSafetensors } from '../dino/weights/safetensors';
import { threadCropper } from './crop-thread';
import { decodeTrainingPhotos } from './decoded-photos';
import { loadProbeSet } from './label-free';
import type { GpuWindow } from './gpu-window';
import { ComputeLostError, runJob, type JobChannel } from './job-channel';
import type { JobContext } from './jobs';
import { readWeights } from '../dino/weights/model-loader';
import type { TrainWorkerData } from './workers/train-worker';

/**
 * A training job in the GPU window, as the training worker would run it (same data, events and
 * result): the main process decodes the photos and makes each step's crops in its crop thread, the
 * window trains, and its checkpoints and final teacher come back to be written here. A window lost
 * mid-run fails the job; the last checkpoint written stays for a resume.
 */
export async function trainInGpuWindow(
  gpu: GpuWindow,
  d: TrainWorkerData,
  job: JobContext | undefined,
  onEvent: (e: TrainWorkerEvent) => void,
  options: { killAfterMs?: number } = {},
): Promise<TrainWorkerResult> {
  const images = await decodeTrainingPhotos(d.items, d.config, { checkpoint: () => job?.checkpoint() ?? Promise.resolve(), post: onEvent });
  const byId = new Map(images.map((img) => [img.id, img]));
  // one cropper per crop spec (a run has one); DINO_CROP_THREAD=0 makes them on this thread
  const croppers = new Map<string, BatchCropper>();
  const serve = async (request: unknown) => {
    const r = request as GpuRequest;
    if (r.kind === 'probe' && d.probe) {
      const set = await loadProbeSet(d.probe.items, r.imgSize, d.probe.views);
      return { reply: set, transfer: [...set.originals, ...set.views].map((img) => img.rgb.buffer) as ArrayBuffer[] };
    }
    if (r.kind !== 'crops') throw new Error(`a training job asks for crops, not ${r.kind}`);
    const key = JSON.stringify(r.spec);
    let cropper = croppers.get(key);
    if (!cropper) croppers.set(key, (cropper = process.env.DINO_CROP_THREAD === '0' ? inlineCropper(r.spec) : threadCropper(r.spec)));
    const parts = await cropper.make(
      r.ids.map((id) => {
        const img = byId.get(id);
        if (!img) throw new Error(`photo ${id} is not in this run`);
        return img;
      }),
      r.it,
    );
    return { reply: parts, transfer: parts.flatMap((p) => (p.locals ? [p.globals.buffer, p.locals.buffer] : [p.globals.buffer])) as ArrayBuffer[] };
  };
  let channel: JobChannel;
  {
    // read before the window is asked for a port; copied into the message, kept nowhere for the run
    const data: GpuTrainData = {
      config: d.config,
      checkpointEveryMs: d.checkpointEveryMs,
      maxSteps: d.maxSteps,
      maxMs: d.maxMs,
      keepBest: d.keepBest,
      best: d.best,
      startScores: d.startScores,
      probe: d.probe !== undefined,
      ids: images.map((img) => img.id),
      resume: d.resume && existsSync(d.stateFile) ? toWire(readSafetensors(d.stateFile)) : undefined,
      init: d.initFrom ? toWire({ tensors: readWeights(d.initFrom).tensors, metadata: {} }) : undefined,
    };
    channel = gpu.openJob();
    channel.post({ type: 'start', kind: 'train', data });
  }
  try {
    const r = await runJob<GpuTrainEvent, GpuTrainResult>(
      channel,
      job,
      (e) => {
        if (e.type === 'model-state') {
          const best = fromWire(e.model);
          return writeSafetensors(d.modelFile, best.tensors, best.metadata);
        }
        if (e.type !== 'checkpoint-state') return onEvent(e);
        const state = fromWire(e.state);
        writeSafetensors(d.stateFile, state.tensors, state.metadata);
        onEvent({ type: 'checkpoint', it: e.it, final: e.final });
      },
      { killAfterMs: options.killAfterMs, serve },
    );
    if (r.model) {
      const model = fromWire(r.model);
      writeSafetensors(d.modelFile, model.tensors, model.metadata);
    }
    const { model: _model, ...summary } = r;
    return summary;
  } catch (e) {
    if (e instanceof ComputeLostError) throw new ComputeLostError(`${e.message}. The last checkpoint is kept: resume the run to continue from it.`);
    throw e;
  } finally {
    for (const c of croppers.values()) c.close();
  }
}
