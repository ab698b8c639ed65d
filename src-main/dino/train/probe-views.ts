/**
 * The augmented twin of a photo for the augmentation-retrieval probe (analysis/twin-retrieval.ts): one
 * fixed recipe for every model, so that scores compare across models and checkpoints. A DINO global
 * crop (scale 0.4-1) with the paper's flip, colour jitter (p 0.8), grayscale (p 0.2) and the local
 * views' blur (p 0.5), no solarisation: what a model that learnt DINO's invariances should see through,
 * and what raw pixels do not. Seeded per sample position, so every model sees the same views.
 */
import { DEFAULT_MULTICROP, oneCrop, type MultiCropConfig, type RgbImage } from './augment';
import { Rng } from '../rng';

const PROBE_CROPS: MultiCropConfig = { ...DEFAULT_MULTICROP, globalScale: [0.4, 1] };
const PROBE_SEED = 0x7a11;

/** The twin of the sample's photo number `index`, `side` px square. */
export function probeView(img: RgbImage, side: number, index: number): RgbImage {
  const rng = new Rng((Math.imul(index + 1, 0x9e3779b1) ^ PROBE_SEED) >>> 0);
  const px = oneCrop(img, side, PROBE_CROPS.globalScale, 'local', PROBE_CROPS, rng);
  const rgb = new Uint8Array(px.length);
  for (let i = 0; i < px.length; i++) rgb[i] = Math.round(px[i]! * 255);
  return { rgb, width: side, height: side };
}

/**
 * The side a view is made at for a model that embeds at `imgSize`: the size the evaluation transform
 * resizes to (256 / 224 of the crop), so embedding it resamples ~1:1 and keeps its centre.
 */
export function probeSide(imgSize: number): number {
  return Math.round((256 * imgSize) / 224);
}
