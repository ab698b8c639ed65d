import type { Locator } from '@playwright/test';
import sharp from 'sharp';

/**
 * A screenshot that shows photos is anything but flat: measure the spread of its pixel values and
 * how many distinct colours it holds. A blank or placeholder-only grid scores near zero on both.
 */
export async function imageVariety(file: string | Buffer): Promise<{ stdev: number; colours: number }> {
  const img = sharp(file).removeAlpha();
  const stats = await img.stats();
  const stdev = stats.channels.reduce((s, c) => s + c.stdev, 0) / stats.channels.length;
  const { data } = await sharp(file).removeAlpha().resize(160, 100, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
  const seen = new Set<number>();
  // quantise to 4 bits a channel so compression noise does not count as colour
  for (let i = 0; i + 2 < data.length; i += 3) seen.add(((data[i]! >> 4) << 8) | ((data[i + 1]! >> 4) << 4) | (data[i + 2]! >> 4));
  return { stdev, colours: seen.size };
}

/** the part of a canvas the check reads (the e2e tsconfig has no DOM lib) */
interface CanvasLike {
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
}

/**
 * What a canvas holds: the share of pixels painted (alpha > 0) and how many distinct colours (4 bits
 * a channel). A canvas nothing was drawn on is 0 and 0; a chart or a map is well above.
 */
export async function canvasInk(canvas: Locator): Promise<{ painted: number; colours: number }> {
  return canvas.evaluate((el) => {
    const c = el as unknown as CanvasLike;
    const ctx = c.getContext('2d');
    if (!ctx || !c.width || !c.height) return { painted: 0, colours: 0 };
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    const seen = new Set<number>();
    let painted = 0;
    for (let i = 0; i < d.length; i += 4) {
      if (d[i + 3]! === 0) continue;
      painted++;
      seen.add(((d[i]! >> 4) << 12) | ((d[i + 1]! >> 4) << 8) | ((d[i + 2]! >> 4) << 4) | (d[i + 3]! >> 4));
    }
    return { painted: painted / (d.length / 4), colours: seen.size };
  });
}
