/**
 * The photometric transforms of DINO's augmentation on HWC float pixels in [0, 1], as torchvision
 * defines them: flip, brightness, contrast, saturation, hue (through HSV), grayscale (ITU-R 601
 * luma), Gaussian blur, solarisation (PIL's threshold 128).
 */

function gray(r: number, g: number, b: number): number {
  return 0.299 * r + 0.587 * g + 0.114 * b;
}
function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

export function hflip(px: Float32Array, w: number, h: number): void {
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w >> 1; x++) {
      const a = (y * w + x) * 3;
      const b = (y * w + (w - 1 - x)) * 3;
      for (let c = 0; c < 3; c++) {
        const t = px[a + c]!;
        px[a + c] = px[b + c]!;
        px[b + c] = t;
      }
    }
  }
}

export function brightness(px: Float32Array, f: number): void {
  for (let i = 0; i < px.length; i++) px[i] = clamp01(px[i]! * f);
}

export function contrast(px: Float32Array, f: number): void {
  let mean = 0;
  for (let i = 0; i < px.length; i += 3) mean += gray(px[i]!, px[i + 1]!, px[i + 2]!);
  mean /= px.length / 3;
  for (let i = 0; i < px.length; i++) px[i] = clamp01(f * px[i]! + (1 - f) * mean);
}

export function saturation(px: Float32Array, f: number): void {
  for (let i = 0; i < px.length; i += 3) {
    const l = gray(px[i]!, px[i + 1]!, px[i + 2]!);
    for (let c = 0; c < 3; c++) px[i + c] = clamp01(f * px[i + c]! + (1 - f) * l);
  }
}

/** shift hue by f (a fraction of the colour circle, in [-0.5, 0.5]) through HSV */
export function hue(px: Float32Array, f: number): void {
  for (let i = 0; i < px.length; i += 3) {
    const r = px[i]!;
    const g = px[i + 1]!;
    const b = px[i + 2]!;
    const max = Math.max(r, g, b);
    const min = Math.min(r, g, b);
    const d = max - min;
    if (d === 0) continue;
    let hh: number;
    if (max === r) hh = ((g - b) / d) % 6;
    else if (max === g) hh = (b - r) / d + 2;
    else hh = (r - g) / d + 4;
    hh = hh / 6 + f;
    hh -= Math.floor(hh);
    const s = d / max;
    const v = max;
    const h6 = hh * 6;
    const k = Math.floor(h6);
    const fr = h6 - k;
    const p = v * (1 - s);
    const q = v * (1 - s * fr);
    const t = v * (1 - s * (1 - fr));
    const rgb = [
      [v, t, p],
      [q, v, p],
      [p, v, t],
      [p, q, v],
      [t, p, v],
      [v, p, q],
    ][k % 6]!;
    px[i] = rgb[0]!;
    px[i + 1] = rgb[1]!;
    px[i + 2] = rgb[2]!;
  }
}

export function grayscale(px: Float32Array): void {
  for (let i = 0; i < px.length; i += 3) {
    const l = gray(px[i]!, px[i + 1]!, px[i + 2]!);
    px[i] = l;
    px[i + 1] = l;
    px[i + 2] = l;
  }
}

/** separable Gaussian blur, kernel radius ceil(3 sigma), edges replicated */
export function gaussianBlur(px: Float32Array, w: number, h: number, sigma: number): void {
  const rad = Math.max(1, Math.ceil(3 * sigma));
  const k = new Float32Array(2 * rad + 1);
  let sum = 0;
  for (let i = -rad; i <= rad; i++) sum += k[i + rad] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i]! /= sum;
  const tmp = new Float32Array(px.length);
  blurPass(px, tmp, w, h, k, rad, true);
  blurPass(tmp, px, w, h, k, rad, false);
}

/** one 1-D pass of the blur, along rows (horizontal) or columns, src -> dst */
function blurPass(src: Float32Array, dst: Float32Array, w: number, h: number, k: Float32Array, rad: number, horizontal: boolean): void {
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let a = 0;
      let b = 0;
      let c = 0;
      for (let i = -rad; i <= rad; i++) {
        const s = horizontal ? (y * w + Math.min(w - 1, Math.max(0, x + i))) * 3 : (Math.min(h - 1, Math.max(0, y + i)) * w + x) * 3;
        const kv = k[i + rad]!;
        a += kv * src[s]!;
        b += kv * src[s + 1]!;
        c += kv * src[s + 2]!;
      }
      const o = (y * w + x) * 3;
      dst[o] = a;
      dst[o + 1] = b;
      dst[o + 2] = c;
    }
  }
}

export function solarize(px: Float32Array): void {
  // PIL ImageOps.solarize(threshold=128): pixels >= 128 inverted
  for (let i = 0; i < px.length; i++) if (px[i]! >= 128 / 255) px[i] = 1 - px[i]!;
}
