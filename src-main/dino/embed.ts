/**
 * Embeddings for retrieval: the teacher backbone's [CLS] after the final norm, L2-normalised (not
 * the head's output), from the evaluation transform (shorter side to 256 * size / 224, centre crop,
 * ImageNet normalisation). One tf.tidy per block keeps memory to one block's activations.
 */
import * as tf from '@tensorflow/tfjs-core';
import { evalTransformInto, type RgbImage } from './augment';
import { l2Normalize } from './ops';
import type { DinoNet } from './net';
import { lastSelfAttention, vitForward } from './vit';

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
  const buf = new Float32Array(images.length * size * size * 3);
  images.forEach((img, i) => evalTransformInto(img, size, buf, i * size * size * 3, kind));
  return tf.tensor4d(buf, [images.length, size, size, 3]);
}

export function embedImages(net: DinoNet, images: RgbImage[], opts: EmbedOptions = {}): Float32Array[] {
  const size = opts.size ?? net.config.vit.imgSize;
  const bs = opts.batchSize ?? 16;
  const out: Float32Array[] = [];
  for (let i = 0; i < images.length; i += bs) {
    const chunk = images.slice(i, i + bs);
    const x = evalBatch(chunk, size, opts.interpolation ?? 'bicubic');
    const e = tf.tidy(() => l2Normalize(vitForward(net.config.vit, net.params, x, { perBlockTidy: true })));
    x.dispose();
    const data = e.dataSync() as Float32Array;
    e.dispose();
    const d = net.config.vit.embedDim;
    for (let j = 0; j < chunk.length; j++) out.push(data.slice(j * d, (j + 1) * d));
  }
  return out;
}

/** The last block's [CLS]->patch attention per head for one image: [heads][gridH * gridW], grid size. */
export function attentionMaps(net: DinoNet, image: RgbImage, size?: number): { heads: Float32Array[]; grid: number } {
  const s = size ?? net.config.vit.imgSize;
  const x = evalBatch([image], s, 'bicubic');
  const a = lastSelfAttention(net.config.vit, net.params, x);
  x.dispose();
  const data = a.dataSync() as Float32Array;
  const [, h, n] = a.shape;
  a.dispose();
  return { heads: Array.from({ length: h }, (_, i) => data.slice(i * n, (i + 1) * n)), grid: Math.round(Math.sqrt(n)) };
}
