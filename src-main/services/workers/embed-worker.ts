import { decodeSideFor, embedOnSide, type EmbedWorkerEvent, type EmbedWorkerResult } from '../../compute/embed-job';
import { initBackend } from '../../dino/runtime/node/backend';
import { disposeNet, type DinoNet } from '../../dino/model/net';
import { decodeEmbeddingPhotos } from '../decoded-photos';
import { loadNet } from '../../dino/weights/model-loader';
import { workerMain } from '../worker-side';

export { decodeSideFor, type EmbedWorkerEvent, type EmbedWorkerResult } from '../../compute/embed-job';

export interface EmbedWorkerData {
  modelFile: string;
  items: { id: number; path: string }[];
  batchSize: number;
  /** also compute the last block's attention maps (one photo: the viewer's overlay) */
  attention?: boolean;
}

workerMain<EmbedWorkerData, EmbedWorkerEvent, EmbedWorkerResult>(async (side) => {
  const backend = await initBackend();
  side.post({ type: 'backend', description: backend.description });
  const net: DinoNet = await loadNet(side.data.modelFile);
  try {
    const { items, batchSize, attention } = side.data;
    const maxSide = decodeSideFor(net.config.vit.imgSize);
    return await embedOnSide(side, net, { count: items.length, batchSize, attention, photos: (start, n) => decodeEmbeddingPhotos(items.slice(start, start + n), maxSide) });
  } finally {
    disposeNet(net);
  }
});
