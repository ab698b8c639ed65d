import type { EmbedWorkerEvent, EmbedWorkerResult } from '../../compute/embed-job';
import { initBackend } from '../../dino/runtime/node/backend';
import { disposeNet, type DinoNet } from '../../dino/model/net';
import { loadNet } from '../../dino/weights/model-loader';
import { workerMain } from '../threads/worker-side';
import { embedFiles } from './embed-files';

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
    return await embedFiles(side, net, items, batchSize, attention);
  } finally {
    disposeNet(net);
  }
});
