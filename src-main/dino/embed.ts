/**
 * Embeddings for retrieval: the teacher backbone's [CLS] after the final norm, L2-normalised (not
 * the head's output), from the evaluation transform (shorter side to 256 * size / 224, centre crop,
 * ImageNet normalisation). One tf.tidy per block keeps memory to one block's activations. Reads are
 * asynchronous, and a batch's read is started before the next batch is queued, so a GPU never waits.
 */
import * as tf from '@tensorflow/tfjs-core';
import { evalTransformInto, type RgbImage } from './train/augment';
import { readValues } from './runtime/gpu-errors';
import { imageBatch } from './runtime/image-batch';
import { l2Normalize } from './model/ops';
import type { DinoNet } from './model/net';
import { lastSelfAttention, vitForward } from './model/vit';

export interface EmbedOptions {
  /** crop size; default the model's position-embedding size */
  size?: number;
  batchSize?: number;
  interpolation?: 'bicubic' | 'bilinear';
}

/** Decoding for the evaluation transform: the shorter side must survive at 256/224 of the crop. */
export function decodeSideFor(imgSize: number): number {
  return Math.ceil(((imgSize * 256) / 224) * 2);
}

function evalBatch(images: RgbImage[], size: number, kind: 'bicubic' | 'bilinear'): tf.Tensor4D {
  const bytes = new Uint8Array(images.length * size * size * 3);
  images.forEach((img, i) => evalTransformInto(img, size, bytes, i * size * size * 3, kind));
  return imageBatch(bytes, [images.length, size, size, 3]);
}

/** One batch's embeddings, queued; the promise resolves with its rows once the device has run it. */
export function queueEmbedding(net: DinoNet, images: RgbImage[], size: number, kind: 'bicubic' | 'bilinear'): Promise<Float32Array[]> {
  return queueEmbeddingOf(net, evalBatch(images, size, kind));
}

/** The embeddings of a batch of input crops [n, S, S, 3] (disposed here), queued as queueEmbedding's. */
export function queueEmbeddingOf(net: DinoNet, x: tf.Tensor4D): Promise<Float32Array[]> {
  const e = tf.tidy(() => l2Normalize(vitForward(net.config.vit, net.params, x, { perBlockTidy: true })));
  x.dispose();
  const d = net.config.vit.embedDim;
  const n = e.shape[0]!;
  const rows = readValues(e).then((data) => Array.from({ length: n }, (_, j) => data.slice(j * d, (j + 1) * d)));
  // handled here, so a batch nobody awaits (an earlier one failed) rejects quietly
  rows.finally(() => e.dispose()).catch(() => undefined);
  return rows;
}

/** Embeds in batches of opts.batchSize, each queued before the one before it is read. */
export async function embedImages(net: DinoNet, images: RgbImage[], opts: EmbedOptions = {}): Promise<Float32Array[]> {
  const size = opts.size ?? net.config.vit.imgSize;
  const bs = opts.batchSize ?? 16;
  const batches: Promise<Float32Array[]>[] = [];
  for (let i = 0; i < images.length; i += bs) {
    batches.push(queueEmbedding(net, images.slice(i, i + bs), size, opts.interpolation ?? 'bicubic'));
    // at most one batch waits to be read: the one queued before this
    if (batches.length > 1) await batches.at(-2);
  }
  return (await Promise.all(batches)).flat();
}

/** The last block's [CLS]->patch attention per head for one image: [heads][gridH * gridW], grid size. */
export async function attentionMaps(net: DinoNet, image: RgbImage, size?: number): Promise<{ heads: Float32Array[]; grid: number }> {
  const s = size ?? net.config.vit.imgSize;
  const x = evalBatch([image], s, 'bicubic');
  const a = lastSelfAttention(net.config.vit, net.params, x);
  x.dispose();
  const [, h, n] = a.shape;
  try {
    const data = await readValues(a);
    return { heads: Array.from({ length: h }, (_, i) => data.slice(i * n, (i + 1) * n)), grid: Math.round(Math.sqrt(n)) };
  } finally {
    a.dispose();
  }
}
