// Photos decoded for the model, in whatever thread runs the job's host side: the training and
// embedding workers, or the main process when the GPU window runs the model.
import type { DecodedPhoto } from '../../compute/embed-job';
import type { TrainWorkerEvent } from '../../compute/train-job';
import type { DinoConfig } from '../../dino/train/presets';
import type { SourceImage } from '../../dino/train/trainer';
import { decodeRgb } from '../../library/decode';

/** Photos are decoded once at a working size (enough for the largest random crop) and kept in memory. */
export function workingSide(config: DinoConfig): number {
  return Math.max(2 * config.globalSize, 128);
}

/**
 * A training run's photos, decoded eight at a time at the working size; a photo that fails is skipped
 * and reported. `checkpoint` is the job's (waits while paused, throws when cancelled).
 */
export async function decodeTrainingPhotos(
  items: readonly { id: number; path: string }[],
  config: DinoConfig,
  job: { checkpoint(): Promise<void>; post(e: TrainWorkerEvent): void },
): Promise<SourceImage[]> {
  const maxSide = workingSide(config);
  const images: SourceImage[] = [];
  for (let i = 0; i < items.length; i += 8) {
    await job.checkpoint();
    for (const p of await decodeEmbeddingPhotos(items.slice(i, i + 8), maxSide)) {
      if ('rgb' in p) images.push(p);
      else job.post({ type: 'skipped', id: p.id, reason: p.error });
    }
    job.post({ type: 'phase', phase: 'decoding', done: Math.min(i + 8, items.length), total: items.length });
  }
  return images;
}

/**
 * Photos decoded for the evaluation transform (sharp works on libuv's threads, beside the model), each
 * or why it failed; a training run decodes its chunks here too.
 */
export function decodeEmbeddingPhotos(items: readonly { id: number; path: string }[], maxSide: number): Promise<DecodedPhoto[]> {
  return Promise.all(
    items.map(async (it) => {
      try {
        const img = await decodeRgb(it.path, maxSide);
        return { id: it.id, rgb: img.data, width: img.width, height: img.height };
      } catch (e) {
        return { id: it.id, error: e instanceof Error ? e.message : String(e) };
      }
    }),
  );
}
