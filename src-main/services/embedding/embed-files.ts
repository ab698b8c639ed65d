import { decodeSideFor, embedOnSide, type EmbedWorkerEvent, type EmbedWorkerResult } from '../../compute/embed-job';
import type { WorkerSide } from '../../compute/protocol';
import type { DinoNet } from '../../dino/model/net';
import { decodeEmbeddingPhotos } from '../threads/decoded-photos';

/**
 * The embedding job's compute half (compute/embed-job.ts) on photo files, each batch decoded in this
 * thread at the model's size: the embed worker's catalog batches and the warm embedder's single photos.
 */
export function embedFiles(
  side: WorkerSide<unknown, EmbedWorkerEvent>,
  net: DinoNet,
  items: readonly { id: number; path: string }[],
  batchSize: number,
  attention?: boolean,
): Promise<EmbedWorkerResult> {
  const maxSide = decodeSideFor(net.config.vit.imgSize);
  return embedOnSide(side, net, { count: items.length, batchSize, attention, photos: (start, n) => decodeEmbeddingPhotos(items.slice(start, start + n), maxSide) });
}
