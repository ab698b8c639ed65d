/**
 * DINO's multi-crop augmentation (DataAugmentationDINO) on raw RGB pixels, in plain TypeScript:
 * 2 global crops (RandomResizedCrop scale 0.4-1) + N local crops (scale 0.05-0.4), each with a
 * horizontal flip (p 0.5), ColorJitter(0.4, 0.4, 0.2, 0.1) with p 0.8 (the four adjustments in a
 * random order, as torchvision), grayscale (p 0.2), Gaussian blur (sigma 0.1-2) with p 1.0 on
 * global 1, 0.1 on global 2, 0.5 on locals, solarisation (p 0.2) on global 2 only, then ImageNet
 * mean/std normalisation. Resizing follows PIL (separable filters widened when shrinking, so
 * downscaling is antialiased). Output is NHWC float32, written straight into a batch buffer.
 */
import { brightness, contrast, gaussianBlur, grayscale, hflip, hue, saturation, solarize } from './photometric';
import type { Rng } from '../rng';

export interface RgbImage {
  rgb: Uint8Array;
  width: number;
  height: number;
}

export interface MultiCropConfig {
  globalSize: number;
  localSize: number;
  nLocal: number;
  globalScale: [number, number];
  localScale: [number, number];
  interpolation: 'bicubic' | 'bilinear';
  colorJitterProb: number;
  grayscaleProb: number;
  /** scales the per-view blur probabilities (1.0 global 1, 0.1 global 2, 0.5 locals): 1 = the paper's, 0 = no blur */
  blurAmount: number;
  /** solarisation probability of the second global view (the paper's 0.2) */
  solarizeProb: number;
}

export const DEFAULT_MULTICROP: MultiCropConfig = {
  globalSize: 224,
  localSize: 96,
  nLocal: 8,
  globalScale: [0.4, 1],
  localScale: [0.05, 0.4],
  interpolation: 'bicubic',
  colorJitterProb: 0.8,
  grayscaleProb: 0.2,
  blurAmount: 1,
  solarizeProb: 0.2,
};

// ---- resampling (PIL's ImagingResample: a filter whose support grows with the shrink factor) ----

function bicubicFilter(x: number): number {
  const a = -0.5; // PIL's bicubic
  x = Math.abs(x);
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}
function bilinearFilter(x: number): number {
  x = Math.abs(x);
  return x < 1 ? 1 - x : 0;
}

interface Coeffs {
  start: Int32Array;
  count: Int32Array;
  weights: Float32Array;
  taps: number;
}

/** per output pixel: the first input index, how many taps, and their normalised weights */
function coeffs(inSize: number, box0: number, box1: number, outSize: number, kind: 'bicubic' | 'bilinear'): Coeffs {
  const filter = kind === 'bicubic' ? bicubicFilter : bilinearFilter;
  const support0 = kind === 'bicubic' ? 2 : 1;
  const scale = (box1 - box0) / outSize;
  const filterscale = Math.max(scale, 1);
  const support = support0 * filterscale;
  const taps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float32Array(outSize * taps);
  for (let o = 0; o < outSize; o++) {
    const center = box0 + (o + 0.5) * scale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize);
    let total = 0;
    const n = Math.min(xmax - xmin, taps);
    for (let k = 0; k < n; k++) {
      const w = filter((k + xmin - center + 0.5) / filterscale);
      weights[o * taps + k] = w;
      total += w;
    }
    if (total !== 0) for (let k = 0; k < n; k++) weights[o * taps + k]! /= total;
    start[o] = xmin;
    count[o] = n;
  }
  return { start, count, weights, taps };
}

/**
 * Resamples the box [x0, x1) x [y0, y1) of an RGB image to outW x outH, values in [0, 1], HWC.
 * Horizontal pass first on the rows the vertical pass needs.
 */
export function resampleBox(
  img: RgbImage,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  outW: number,
  outH: number,
  kind: 'bicubic' | 'bilinear',
): Float32Array {
  const cx = coeffs(img.width, x0, x1, outW, kind);
  const cy = coeffs(img.height, y0, y1, outH, kind);
  const rowLo = cy.start.reduce((a, b) => Math.min(a, b), img.height);
  let rowHi = 0;
  for (let o = 0; o < outH; o++) rowHi = Math.max(rowHi, cy.start[o]! + cy.count[o]!);
  const nRows = Math.max(rowHi - rowLo, 0);
  const tmp = new Float32Array(nRows * outW * 3);
  const src = img.rgb;
  for (let r = 0; r < nRows; r++) {
    const rowBase = (rowLo + r) * img.width * 3;
    for (let o = 0; o < outW; o++) {
      let a = 0;
      let b = 0;
      let c = 0;
      const s = cx.start[o]!;
      const wBase = o * cx.taps;
      for (let k = 0; k < cx.count[o]!; k++) {
        const w = cx.weights[wBase + k]!;
        const i = rowBase + (s + k) * 3;
        a += w * src[i]!;
        b += w * src[i + 1]!;
        c += w * src[i + 2]!;
      }
      const t = (r * outW + o) * 3;
      tmp[t] = a;
      tmp[t + 1] = b;
      tmp[t + 2] = c;
    }
  }
  const out = new Float32Array(outW * outH * 3);
  for (let o = 0; o < outH; o++) {
    const s = cy.start[o]! - rowLo;
    const wBase = o * cy.taps;
    for (let k = 0; k < cy.count[o]!; k++) {
      const w = cy.weights[wBase + k]! / 255;
      const rb = (s + k) * outW * 3;
      const ob = o * outW * 3;
      for (let i = 0; i < outW * 3; i++) out[ob + i]! += w * tmp[rb + i]!;
    }
  }
  for (let i = 0; i < out.length; i++) out[i] = Math.min(1, Math.max(0, out[i]!));
  return out;
}

// ---- RandomResizedCrop.get_params (torchvision) ----

export function randomResizedCropBox(
  w: number,
  h: number,
  scale: [number, number],
  rng: Rng,
  ratio: [number, number] = [3 / 4, 4 / 3],
): [number, number, number, number] {
  const area = w * h;
  const logR = [Math.log(ratio[0]), Math.log(ratio[1])] as const;
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * rng.uniform(scale[0], scale[1]);
    const aspect = Math.exp(rng.uniform(logR[0], logR[1]));
    const cw = Math.round(Math.sqrt(target * aspect));
    const ch = Math.round(Math.sqrt(target / aspect));
    if (cw > 0 && cw <= w && ch > 0 && ch <= h) {
      const top = rng.int(0, h - ch + 1);
      const left = rng.int(0, w - cw + 1);
      return [left, top, left + cw, top + ch];
    }
  }
  // fallback: a central crop with the ratio clamped into range
  const inRatio = w / h;
  let cw = w;
  let ch = h;
  if (inRatio < ratio[0]) ch = Math.round(w / ratio[0]);
  else if (inRatio > ratio[1]) cw = Math.round(h * ratio[1]);
  const left = Math.floor((w - cw) / 2);
  const top = Math.floor((h - ch) / 2);
  return [left, top, left + cw, top + ch];
}

/** flip, colour jitter, grayscale: flip_and_color_jitter in the official code */
function flipAndColorJitter(px: Float32Array, size: number, cfg: MultiCropConfig, rng: Rng): void {
  if (rng.next() < 0.5) hflip(px, size, size);
  if (rng.next() < cfg.colorJitterProb) {
    const b = rng.uniform(0.6, 1.4);
    const c = rng.uniform(0.6, 1.4);
    const s = rng.uniform(0.8, 1.2);
    const hf = rng.uniform(-0.1, 0.1);
    for (const fn of rng.permutation(4)) {
      if (fn === 0) brightness(px, b);
      else if (fn === 1) contrast(px, c);
      else if (fn === 2) saturation(px, s);
      else hue(px, hf);
    }
  }
  if (rng.next() < cfg.grayscaleProb) grayscale(px);
}

/** Pixels in [0, 1] as bytes at `offset` of `dst`, rounded to the nearest and clamped as PIL's uint8 output */
export function quantizeInto(px: Float32Array, dst: Uint8Array, offset: number): void {
  // a clamped view rounds to nearest and clips to 0..255 on every store
  const q = new Uint8ClampedArray(dst.buffer, dst.byteOffset + offset, px.length);
  for (let i = 0; i < px.length; i++) q[i] = px[i]! * 255;
}

type View = 'global1' | 'global2' | 'local';

/** One augmented view, as the multi-crop makes it: a random resized crop, then the view's photometric changes (pixels in [0, 1], HWC). */
export function oneCrop(img: RgbImage, size: number, scale: [number, number], view: View, cfg: MultiCropConfig, rng: Rng): Float32Array {
  const [x0, y0, x1, y1] = randomResizedCropBox(img.width, img.height, scale, rng);
  const px = resampleBox(img, x0, y0, x1, y1, size, size, cfg.interpolation);
  flipAndColorJitter(px, size, cfg, rng);
  const blurP = view === 'global1' ? 1 : view === 'global2' ? 0.1 : 0.5;
  if (rng.next() < blurP * cfg.blurAmount) gaussianBlur(px, size, size, rng.uniform(0.1, 2));
  if (view === 'global2' && rng.next() < cfg.solarizeProb) solarize(px);
  return px;
}

/**
 * Writes image b's crops into crop-major batch buffers: globals [2, B, S, S, 3], locals [nLocal, B, s, s, 3].
 */
export function multiCropInto(
  img: RgbImage,
  cfg: MultiCropConfig,
  rng: Rng,
  b: number,
  batch: number,
  globals: Uint8Array,
  locals: Uint8Array | null,
): void {
  const gLen = cfg.globalSize * cfg.globalSize * 3;
  const lLen = cfg.localSize * cfg.localSize * 3;
  for (let c = 0; c < 2; c++) {
    const px = oneCrop(img, cfg.globalSize, cfg.globalScale, c === 0 ? 'global1' : 'global2', cfg, rng);
    quantizeInto(px, globals, (c * batch + b) * gLen);
  }
  if (!locals) return;
  for (let c = 0; c < cfg.nLocal; c++) {
    const px = oneCrop(img, cfg.localSize, cfg.localScale, 'local', cfg, rng);
    quantizeInto(px, locals, (c * batch + b) * lLen);
  }
}

/**
 * The evaluation transform: resize the shorter side to 256 * size / 224, centre-crop size x size,
 * as bytes (normalised where the tensor is made). Done as one resample of the source box that becomes
 * the centre crop.
 */
export function evalTransformInto(
  img: RgbImage,
  size: number,
  dst: Uint8Array,
  offset: number,
  kind: 'bicubic' | 'bilinear' = 'bicubic',
): void {
  const short = Math.round((256 * size) / 224);
  const s = short / Math.min(img.width, img.height);
  const rw = img.width <= img.height ? short : Math.floor(img.width * s);
  const rh = img.height < img.width ? short : Math.floor(img.height * s);
  const top = Math.round((rh - size) / 2);
  const left = Math.round((rw - size) / 2);
  const sx = img.width / rw;
  const sy = img.height / rh;
  const px = resampleBox(img, left * sx, top * sy, (left + size) * sx, (top + size) * sy, size, size, kind);
  quantizeInto(px, dst, offset);
}
