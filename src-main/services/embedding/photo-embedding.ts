import { randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probeBackend } from '../backends/backend-probe';
import type { Catalog } from '../catalog/catalog';
import { backendPreference } from '../catalog/app-settings';
import { resolveModel } from '../models/resolve-model';
import { runEmbedJob } from '../threads/compute-host';
import { warmEmbedder, type PhotoEmbedding } from './warm-embedder';

// One photo under a model of the catalog: a photo from outside it (search with a photo), or one of its
// own for the attention maps. The same transform and code as the catalog's embedding.

export interface PhotoEmbeddingOptions {
  /** also the last block's [CLS]->patch attention, per head */
  attention?: boolean;
  /**
   * a thread of its own for this one photo, started and ended around it: what every photo took before
   * the warm embedder, kept as the benchmark's baseline (bench/search-photo.ts)
   */
  fresh?: boolean;
}

/**
 * The photo's embedding, in the warm embedder's thread (which keeps the model for the next photo); in
 * the Electron app's GPU window, when it computes, as a job of its own like every embedding there.
 */
export async function embedPhoto(catalog: Catalog, modelId: number, path: string, opts: PhotoEmbeddingOptions = {}): Promise<PhotoEmbedding & { vector: Float32Array }> {
  const model = resolveModel(catalog, modelId, 'weights');
  const preference = backendPreference(catalog);
  const where = await probeBackend(preference);
  let r: PhotoEmbedding;
  if (where.window || opts.fresh) {
    r = {};
    const done = await runEmbedJob(preference, { modelFile: model.checkpoint, items: [{ id: 0, path }], batchSize: 1, attention: opts.attention }, undefined, (e) => {
      if (e.type !== 'batch') return;
      r.vector = e.vectors[0];
      r.failure = e.failed[0]?.reason;
    });
    r.attention = done.attention;
  } else r = await warmEmbedder(catalog).embed(model, where, path, opts.attention ?? false);
  if (!r.vector) throw new Error(`Cannot read ${path}: ${r.failure ?? 'unknown error'}`);
  if (opts.attention && !r.attention) throw new Error('no attention maps were produced');
  return { ...r, vector: r.vector };
}

/** Same, for photo bytes (drag and drop, file picker in web mode): written to a temporary file first. */
export async function embedPhotoBytes(catalog: Catalog, modelId: number, bytes: Uint8Array, opts: PhotoEmbeddingOptions = {}): Promise<Float32Array> {
  const file = join(tmpdir(), `dino-query-${randomUUID()}`);
  writeFileSync(file, bytes);
  try {
    return (await embedPhoto(catalog, modelId, file, opts)).vector;
  } finally {
    rmSync(file, { force: true });
  }
}
