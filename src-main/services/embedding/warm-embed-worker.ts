import { threadId } from 'node:worker_threads';
import type { EmbedWorkerEvent, EmbedWorkerResult } from '../../compute/embed-job';
import type { WorkerSide } from '../../compute/protocol';
import { initBackend } from '../../dino/runtime/node/backend';
import { disposeNet } from '../../dino/model/net';
import { loadNet } from '../../dino/weights/model-loader';
import { workerMain } from '../threads/worker-side';
import { embedFiles } from './embed-files';

// The warm embedder's thread (warm-embedder.ts): loads the model once, then embeds one photo at a time
// as the main process hands them over, until it is told there is no more (idle, another model, the
// catalog closing). One request at a time: a search with a photo, or a photo's attention maps.

export interface WarmEmbedData {
  modelFile: string;
}

/** What the thread asks its host for: the next photo, or null to stop. */
export type WarmEmbedWork = { id: number; path: string; attention: boolean } | null;

export type WarmEmbedEvent =
  | { type: 'ready'; backend: string; thread: number }
  | { type: 'answer'; id: number; vector?: Float32Array; failure?: string; attention?: EmbedWorkerResult['attention']; error?: string };

workerMain<WarmEmbedData, WarmEmbedEvent, { served: number }>(async (side) => {
  const backend = await initBackend();
  const net = await loadNet(side.data.modelFile);
  side.post({ type: 'ready', backend: backend.description, thread: threadId });
  let served = 0;
  try {
    for (;;) {
      const work = await side.request<WarmEmbedWork>('next');
      if (!work) return { served };
      served++;
      try {
        let vector: Float32Array | undefined;
        let failure: string | undefined;
        // the embedding job's own code on one photo (the same transform and batch path as the catalog's),
        // its batch caught here: the thread's side with only `post` its own
        const post = (e: EmbedWorkerEvent): void => {
          if (e.type !== 'batch') return;
          vector = e.vectors[0];
          failure = e.failed[0]?.reason;
        };
        const one = Object.create(side, { post: { value: post } }) as WorkerSide<unknown, EmbedWorkerEvent>;
        const r = await embedFiles(one, net, [{ id: work.id, path: work.path }], 1, work.attention);
        side.post({ type: 'answer', id: work.id, vector, failure, attention: r.attention });
      } catch (e) {
        // one photo's failure is its answer; the thread and its model stay for the next
        side.post({ type: 'answer', id: work.id, error: e instanceof Error ? e.message : String(e) });
      }
    }
  } finally {
    disposeNet(net);
  }
});
