/**
 * Where a training step's crops come from. Every step draws its crops from an RNG of its own, seeded
 * by (seed, iteration), so the crops of step i + 1 can be made while step i runs (in another thread:
 * on a 2-core machine the multi-crop augmentation is ~20 % of a cpu-narrow step) and a resumed run
 * makes exactly the crops the uninterrupted one would have.
 */
import { multiCropInto, type MultiCropConfig, type RgbImage } from './augment';
import { Rng } from '../rng';

/** One micro-batch's crops as RGB bytes, crop-major: globals [2, B, S, S, 3], locals [nLocal, B, s, s, 3]. */
export interface CropArrays {
  batch: number;
  globals: Uint8Array;
  locals: Uint8Array | null;
}

/** What a cropper needs to know of the run: fixed for its whole length. */
export interface CropSpec {
  crops: MultiCropConfig;
  seed: number;
  /** images per micro-batch (batchSize / accumSteps) */
  microSize: number;
}

export interface BatchCropper {
  /** iteration `it`'s crops of `images`, cut into micro-batches in image order */
  make(images: readonly RgbImage[], it: number): Promise<CropArrays[]>;
  close(): void;
}

/** Independent streams drawn per iteration. */
export const RNG_STREAM = { crops: 1, dropPath: 2 } as const;

/** A well-mixed 32-bit seed for one stream of one iteration (murmur3's finaliser over the three). */
export function stepSeed(seed: number, it: number, stream: number): number {
  let h = (seed ^ Math.imul(it + 1, 0x9e3779b1) ^ Math.imul(stream, 0x85ebca77)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * The crops of one iteration. One RNG runs through the images in order, so micro-batches draw the
 * same crops one whole batch would.
 */
export function cropIteration(images: readonly RgbImage[], spec: CropSpec, it: number): CropArrays[] {
  const rng = new Rng(stepSeed(spec.seed, it, RNG_STREAM.crops));
  const { globalSize: gs, localSize: ls, nLocal } = spec.crops;
  const out: CropArrays[] = [];
  for (let start = 0; start < images.length; start += spec.microSize) {
    const part = images.slice(start, start + spec.microSize);
    const b = part.length;
    const globals = new Uint8Array(2 * b * gs * gs * 3);
    const locals = nLocal > 0 ? new Uint8Array(nLocal * b * ls * ls * 3) : null;
    part.forEach((img, i) => multiCropInto(img, spec.crops, rng, i, b, globals, locals));
    out.push({ batch: b, globals, locals });
  }
  return out;
}

/** Makes the crops on the training thread, when asked (tests, and where no worker can start). */
export function inlineCropper(spec: CropSpec): BatchCropper {
  return {
    // a throw inside the executor becomes the promise's rejection
    make: (images, it) => new Promise((resolve) => resolve(cropIteration(images, spec, it))),
    close: () => undefined,
  };
}
