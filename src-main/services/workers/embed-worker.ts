import { initBackend } from '../../dino/backend';
import { attentionMaps, decodeSideFor, queueEmbedding } from '../../dino/embed';
import { disposeNet, type DinoNet } from '../../dino/net';
import { decodeRgb } from '../../library/decode';
import { loadNet } from '../model-loader';
import { workerMain } from '../worker-side';

export interface EmbedWorkerData {
  modelFile: string;
  items: { id: number; path: string }[];
  batchSize: number;
  /** also compute the last block's attention maps (one photo: the viewer's overlay) */
  attention?: boolean;
}

export type EmbedWorkerEvent =
  | { type: 'backend'; description: string }
  | { type: 'batch'; ids: number[]; vectors: Float32Array[]; failed: { id: number; reason: string }[] };

export interface EmbedWorkerResult {
  embedded: number;
  failed: number;
  attention?: { heads: number[][]; grid: number };
}

workerMain<EmbedWorkerData, EmbedWorkerEvent, EmbedWorkerResult>(async (side) => {
  const backend = await initBackend();
  side.post({ type: 'backend', description: backend.description });
  const net: DinoNet = await loadNet(side.data.modelFile);
  try {
    const maxSide = decodeSideFor(net.config.vit.imgSize);
    const items = side.data.items;
    let embedded = 0;
    let failed = 0;
    // decode the next batch while this one runs through the model (sharp works on libuv's threads)
    const decodeBatch = (start: number) =>
      Promise.all(
        items.slice(start, start + side.data.batchSize).map(async (it) => {
          try {
            return { id: it.id, img: await decodeRgb(it.path, maxSide) };
          } catch (e) {
            return { id: it.id, error: e instanceof Error ? e.message : String(e) };
          }
        }),
      );
    let next = decodeBatch(0);
    // a batch is queued before the one before it is read and posted: a GPU never waits on a read
    let posting: Promise<void> = Promise.resolve();
    for (let start = 0; start < items.length; start += side.data.batchSize) {
      await side.checkpoint();
      const decoded = await next;
      next = decodeBatch(start + side.data.batchSize);
      const ok = decoded.filter((d): d is { id: number; img: { data: Uint8Array; width: number; height: number } } => 'img' in d);
      const rows = ok.length ? queueEmbedding(net, ok.map((d) => ({ rgb: d.img.data, width: d.img.width, height: d.img.height })), net.config.vit.imgSize, 'bicubic') : Promise.resolve([]);
      const bad = decoded.filter((d): d is { id: number; error: string } => 'error' in d).map((d) => ({ id: d.id, reason: d.error }));
      await posting;
      posting = rows.then((vectors) => {
        embedded += ok.length;
        failed += bad.length;
        side.post({ type: 'batch', ids: ok.map((d) => d.id), vectors, failed: bad });
      });
      // handled when awaited; meanwhile a rejection must not count as unhandled
      posting.catch(() => undefined);
    }
    await posting;
    if (side.data.attention && items[0]) {
      const img = await decodeRgb(items[0].path, maxSide);
      const a = await attentionMaps(net, { rgb: img.data, width: img.width, height: img.height });
      return { embedded, failed, attention: { heads: a.heads.map((h) => [...h]), grid: a.grid } };
    }
    return { embedded, failed };
  } finally {
    disposeNet(net);
  }
});
