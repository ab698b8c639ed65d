/**
 * An embedding job's compute half, the same in the embedding worker thread (photos decoded there) and
 * in the Electron GPU window (photos decoded by the main process and sent over the job's port): batches
 * through the teacher's backbone, each queued before the one before it is read and posted, so a GPU
 * never waits on a read; then, when asked, the last block's attention maps of the first photo.
 */
import { attentionMaps, decodeSideFor, queueEmbedding } from '../dino/embed';
import type { DinoNet } from '../dino/model/net';
import type { WorkerSide } from './protocol';

export { decodeSideFor };

export type EmbedWorkerEvent =
  | { type: 'backend'; description: string }
  | { type: 'batch'; ids: number[]; vectors: Float32Array[]; failed: { id: number; reason: string }[] };

export interface EmbedWorkerResult {
  embedded: number;
  failed: number;
  attention?: { heads: number[][]; grid: number };
}

/** A photo decoded for the evaluation transform, or why it could not be. */
export type DecodedPhoto = { id: number; rgb: Uint8Array; width: number; height: number } | { id: number; error: string };

export interface EmbedJobIo {
  /** photos to embed */
  count: number;
  batchSize: number;
  /** also compute the first photo's attention maps (the viewer's overlay) */
  attention?: boolean;
  /** photos `start` .. `start + n - 1`, decoded at decodeSideFor(the model's size) */
  photos(start: number, n: number): Promise<DecodedPhoto[]>;
}

export async function embedOnSide(side: WorkerSide<unknown, EmbedWorkerEvent>, net: DinoNet, io: EmbedJobIo): Promise<EmbedWorkerResult> {
  let embedded = 0;
  let failed = 0;
  // decode the next batch while this one runs through the model
  let next = io.photos(0, Math.min(io.batchSize, io.count));
  // a batch is queued before the one before it is read and posted: a GPU never waits on a read
  let posting: Promise<void> = Promise.resolve();
  for (let start = 0; start < io.count; start += io.batchSize) {
    await side.checkpoint();
    const decoded = await next;
    const after = start + io.batchSize;
    next = after < io.count ? io.photos(after, Math.min(io.batchSize, io.count - after)) : Promise.resolve([]);
    // a prefetch nobody awaits (a cancelled job) must not reject unhandled
    next.catch(() => undefined);
    const ok = decoded.filter((d): d is Extract<DecodedPhoto, { rgb: Uint8Array }> => 'rgb' in d);
    const rows = ok.length ? queueEmbedding(net, ok, net.config.vit.imgSize, 'bicubic') : Promise.resolve([]);
    const bad = decoded.filter((d): d is Extract<DecodedPhoto, { error: string }> => 'error' in d).map((d) => ({ id: d.id, reason: d.error }));
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
  if (io.attention && io.count > 0) {
    const [first] = await io.photos(0, 1);
    if (first && 'error' in first) throw new Error(first.error);
    if (first) {
      const a = await attentionMaps(net, first);
      return { embedded, failed, attention: { heads: a.heads.map((h) => [...h]), grid: a.grid } };
    }
  }
  return { embedded, failed };
}
