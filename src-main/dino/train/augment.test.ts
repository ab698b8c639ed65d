import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MULTICROP,
  evalTransformInto,
  multiCropInto,
  randomResizedCropBox,
  quantizeInto,
  resampleBox,
  type RgbImage,
} from './augment';
import { Rng } from '../rng';

function photo(w: number, h: number, seed: number): RgbImage {
  const r = new Rng(seed);
  const rgb = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) rgb[(y * w + x) * 3 + c] = (x * 3 + y * (c + 1) + r.int(0, 30)) & 255;
  return { rgb, width: w, height: h };
}

const cfg = { ...DEFAULT_MULTICROP, globalSize: 32, localSize: 16, nLocal: 3 };

function crops(img: RgbImage, seed: number, batch = 2, b = 1) {
  const g = new Uint8Array(2 * batch * 32 * 32 * 3);
  const l = new Uint8Array(3 * batch * 16 * 16 * 3);
  multiCropInto(img, cfg, new Rng(seed), b, batch, g, l);
  return { g, l };
}

describe('multi-crop augmentation', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const img = photo(80, 60, 1);
    const a = crops(img, 5);
    const b = crops(img, 5);
    const c = crops(img, 6);
    expect(a.g).toEqual(b.g);
    expect(a.l).toEqual(b.l);
    expect(a.g).not.toEqual(c.g);
  });

  it('writes crop-major slots only, as bytes across the whole range', () => {
    const { g, l } = crops(photo(80, 60, 2), 3, 2, 1);
    const gLen = 32 * 32 * 3;
    // image 1 of a batch of 2 fills slots 1 (global 1) and 3 (global 2); slots 0 and 2 stay empty
    expect(g.subarray(0, gLen).every((v) => v === 0)).toBe(true);
    expect(g.subarray(2 * gLen, 3 * gLen).every((v) => v === 0)).toBe(true);
    expect(g.subarray(gLen, 2 * gLen).some((v) => v !== 0)).toBe(true);
    // the photo's values span 0..255 (x * 3 wraps around): the crops keep most of that range
    for (const arr of [g.subarray(gLen, 2 * gLen), l.subarray(gLen / 4, gLen / 2)]) {
      expect(Math.min(...arr)).toBeLessThan(40);
      expect(Math.max(...arr)).toBeGreaterThan(215);
    }
  });

  it('rounds pixels to the nearest byte and clips what resampling overshoots', () => {
    const dst = new Uint8Array(8);
    quantizeInto(Float32Array.from([0, 1, 0.5 / 255 + 1e-4, 254.4 / 255, -0.2, 1.3]), dst, 2);
    expect([...dst]).toEqual([0, 0, 0, 255, 1, 254, 0, 255]);
  });

  it('jitters colour and grays with the configured per-view probabilities', () => {
    // one flat colour below the solarisation threshold: cropping, resampling, flipping and blurring
    // keep it, so only colour jitter and grayscale can change a crop's pixels
    const rgb = new Uint8Array(50 * 40 * 3);
    for (let i = 0; i < rgb.length; i += 3) rgb.set([51, 77, 102], i);
    const img = { rgb, width: 50, height: 40 };
    const changedViews = (probs: { colorJitterProb: number; grayscaleProb: number }): number => {
      const c = { ...cfg, ...probs };
      let changed = 0;
      for (let seed = 0; seed < 20; seed++) {
        const g = new Uint8Array(2 * 32 * 32 * 3);
        const l = new Uint8Array(3 * 16 * 16 * 3);
        multiCropInto(img, c, new Rng(seed), 0, 1, g, l);
        for (const [buf, len] of [[g, 32 * 32 * 3], [l, 16 * 16 * 3]] as const) {
          for (let v = 0; v < buf.length / len; v++) {
            const px = buf.subarray(v * len, (v + 1) * len);
            const same = [51, 77, 102].every((u, ch) => px[ch] === u);
            if (!same) changed++;
          }
        }
      }
      return changed;
    };
    expect(changedViews({ colorJitterProb: 0, grayscaleProb: 0 })).toBe(0);
    // 100 views: the official 0.8 / 0.2 change about 84 of them, grayscale alone about 20
    expect(changedViews({ colorJitterProb: 0.8, grayscaleProb: 0.2 })).toBeGreaterThan(65);
    const gray = changedViews({ colorJitterProb: 0, grayscaleProb: 0.2 });
    expect(gray).toBeGreaterThan(5);
    expect(gray).toBeLessThan(40);
  });

  it('blurs and solarises with the configured amounts, drawing the same crops either way', () => {
    const noColour = { ...cfg, colorJitterProb: 0, grayscaleProb: 0 };
    const views = (img: RgbImage, seed: number, over: { blurAmount: number; solarizeProb: number }) => {
      const g = new Uint8Array(2 * 32 * 32 * 3);
      const l = new Uint8Array(3 * 16 * 16 * 3);
      multiCropInto(img, { ...noColour, ...over }, new Rng(seed), 0, 1, g, l);
      return g;
    };
    // total variation of the first global view: its box is drawn before any blur decision
    const tv = (g: Uint8Array): number => {
      let t = 0;
      for (let y = 0; y < 32; y++) for (let x = 1; x < 32; x++) for (let ch = 0; ch < 3; ch++) t += Math.abs(g[(y * 32 + x) * 3 + ch]! - g[(y * 32 + x - 1) * 3 + ch]!);
      return t;
    };
    const noisy = photo(80, 60, 4);
    let sharper = 0;
    for (let seed = 0; seed < 20; seed++) {
      const plain = tv(views(noisy, seed, { blurAmount: 0, solarizeProb: 0 }));
      const blurred = tv(views(noisy, seed, { blurAmount: 1, solarizeProb: 0 }));
      if (plain > blurred * 1.05) sharper++;
    }
    // global 1 is blurred with probability 1 in the paper; sigma 0.1-2 px, so a few blurs barely show
    expect(sharper).toBeGreaterThanOrEqual(15);
    // a flat colour above the solarisation threshold: only solarisation changes it, on global 2 only
    const rgb = new Uint8Array(50 * 40 * 3);
    for (let i = 0; i < rgb.length; i += 3) rgb.set([200, 220, 240], i);
    const flat = { rgb, width: 50, height: 40 };
    const solarised = (p: number): number[] => {
      const hits = [0, 0];
      for (let seed = 0; seed < 20; seed++) {
        const g = views(flat, seed, { blurAmount: 1, solarizeProb: p });
        for (const v of [0, 1]) if (g[v * 32 * 32 * 3] !== 200) hits[v]!++;
      }
      return hits;
    };
    expect(solarised(0)).toEqual([0, 0]);
    expect(solarised(1)).toEqual([0, 20]);
  });

  it('draws crop boxes inside the image with the requested area', () => {
    const rng = new Rng(9);
    for (let i = 0; i < 200; i++) {
      const [x0, y0, x1, y1] = randomResizedCropBox(200, 100, [0.05, 0.4], rng);
      expect(x0).toBeGreaterThanOrEqual(0);
      expect(y0).toBeGreaterThanOrEqual(0);
      expect(x1).toBeLessThanOrEqual(200);
      expect(y1).toBeLessThanOrEqual(100);
      const area = ((x1 - x0) * (y1 - y0)) / 20000;
      expect(area).toBeGreaterThan(0.03);
      expect(area).toBeLessThan(0.45);
    }
  });

  it('resamples with antialiasing: a fine checkerboard shrinks to grey', () => {
    const w = 64;
    const rgb = new Uint8Array(w * w * 3);
    for (let y = 0; y < w; y++) for (let x = 0; x < w; x++) rgb.fill((x + y) % 2 ? 255 : 0, (y * w + x) * 3, (y * w + x) * 3 + 3);
    for (const kind of ['bicubic', 'bilinear'] as const) {
      const out = resampleBox({ rgb, width: w, height: w }, 0, 0, w, w, 8, 8, kind);
      for (const v of out) expect(Math.abs(v - 0.5)).toBeLessThan(0.02);
    }
  });

  it('eval transform gives the centre crop of a resized image', () => {
    // left half black, right half white: the centre crop's left edge is dark, right edge bright
    const w = 120;
    const h = 60;
    const rgb = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++) for (let x = w / 2; x < w; x++) rgb.fill(255, (y * w + x) * 3, (y * w + x) * 3 + 3);
    const out = new Uint8Array(16 * 16 * 3);
    evalTransformInto({ rgb, width: w, height: h }, 16, out, 0);
    const px = (x: number, y: number) => out[(y * 16 + x) * 3]!;
    expect(px(0, 8)).toBeLessThan(13);
    expect(px(15, 8)).toBeGreaterThan(242);
  });

  it('reports its speed', () => {
    const img = photo(256, 192, 4);
    const full = { ...DEFAULT_MULTICROP, globalSize: 96, localSize: 48, nLocal: 6 };
    const g = new Uint8Array(2 * 96 * 96 * 3);
    const l = new Uint8Array(6 * 48 * 48 * 3);
    const rng = new Rng(1);
    const t0 = performance.now();
    const n = 20;
    for (let i = 0; i < n; i++) multiCropInto(img, full, rng, 0, 1, g, l);
    const s = (performance.now() - t0) / 1000;
    console.log(`multi-crop 2x96 + 6x48 from 256x192: ${((n * 8) / s).toFixed(0)} crops/s, ${(n / s).toFixed(1)} images/s`);
    expect(s).toBeGreaterThan(0);
  });
});
