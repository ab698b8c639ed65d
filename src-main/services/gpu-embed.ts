import { decodeSideFor, type EmbedWorkerEvent, type EmbedWorkerResult } from '../compute/embed-job';
import { toWire, type GpuEmbedData, type GpuRequest } from '../compute/gpu-jobs';
import { netConfigOf } from '../dino/weights/net-source';
import { ownBytes } from './crop-thread';
import { decodeEmbeddingPhotos } from './decoded-photos';
import type { GpuWindow } from './gpu-window';
import { ComputeLostError, runJob } from './job-channel';
import type { JobContext } from './jobs';
import { netSourceOf } from '../dino/weights/model-loader';
import type { EmbedWorkerData } from './workers/embed-worker';

/**
 * An embedding job in the GPU window, as the embedding worker would run it (same data, events and
 * result): the main process reads the weights and decodes the photos batch by batch as the window
 * asks for them; the window crops (the evaluation transform) and runs the model.
 */
export async function embedInGpuWindow(
  gpu: GpuWindow,
  d: EmbedWorkerData,
  job: JobContext | undefined,
  onEvent: (e: EmbedWorkerEvent) => void,
): Promise<EmbedWorkerResult> {
  const source = netSourceOf(d.modelFile);
  const maxSide = decodeSideFor(netConfigOf(source).vit.imgSize);
  const serve = async (request: unknown) => {
    const r = request as GpuRequest;
    if (r.kind !== 'photos') throw new Error(`an embedding job asks for photos, not ${r.kind}`);
    const photos = (await decodeEmbeddingPhotos(d.items.slice(r.start, r.start + r.count), maxSide)).map((p) => ('rgb' in p ? { ...p, rgb: ownBytes(p.rgb) } : p));
    return { reply: photos, transfer: photos.flatMap((p) => ('rgb' in p ? [p.rgb.buffer as ArrayBuffer] : [])) };
  };
  const data: GpuEmbedData = {
    net: 'random' in source ? source : { config: source.config, weights: toWire({ tensors: source.tensors, metadata: {} }) },
    count: d.items.length,
    batchSize: d.batchSize,
    attention: d.attention,
  };
  const channel = gpu.openJob();
  channel.post({ type: 'start', kind: 'embed', data });
  try {
    return await runJob<EmbedWorkerEvent, EmbedWorkerResult>(channel, job, onEvent, { serve });
  } catch (e) {
    if (e instanceof ComputeLostError) throw new ComputeLostError(`${e.message}. What was embedded is stored: embed again to finish.`);
    throw e;
  }
}
