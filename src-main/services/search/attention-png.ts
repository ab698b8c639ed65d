import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { decodeRgb } from '../../library/decode';

/**
 * Attention maps as pictures: each head's [CLS]->patch attention (and their mean), normalised to its
 * own maximum, bilinearly upsampled to the photo and blended over it with a dark-to-yellow ramp, so
 * what the head looks at shows bright on a dimmed photo.
 */
export async function writeAttentionPngs(photo: string, maps: number[][], grid: number, outDir: string, maxSide = 512): Promise<string[]> {
  mkdirSync(outDir, { recursive: true });
  const img = await decodeRgb(photo, maxSide);
  const mean = maps[0]!.map((_, i) => maps.reduce((s, m) => s + m[i]!, 0) / maps.length);
  const all: [string, number[]][] = [...maps.map((m, h) => [`head-${h + 1}.png`, m] as [string, number[]]), ['mean.png', mean]];
  const files: string[] = [];
  for (const [name, map] of all) {
    const out = blend(img.data, img.width, img.height, map, grid);
    const file = join(outDir, name);
    await sharp(out, { raw: { width: img.width, height: img.height, channels: 3 } }).png().toFile(file);
    files.push(file);
  }
  return files;
}

function blend(rgb: Uint8Array, w: number, h: number, map: number[], grid: number): Buffer {
  const max = Math.max(...map) || 1;
  const out = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) {
    // pixel centre in grid coordinates, clamped at the borders
    const gy = Math.min(Math.max(((y + 0.5) / h) * grid - 0.5, 0), grid - 1);
    const y0 = Math.floor(gy);
    const y1 = Math.min(y0 + 1, grid - 1);
    const fy = gy - y0;
    for (let x = 0; x < w; x++) {
      const gx = Math.min(Math.max(((x + 0.5) / w) * grid - 0.5, 0), grid - 1);
      const x0 = Math.floor(gx);
      const x1 = Math.min(x0 + 1, grid - 1);
      const fx = gx - x0;
      const a =
        (map[y0 * grid + x0]! * (1 - fx) + map[y0 * grid + x1]! * fx) * (1 - fy) + (map[y1 * grid + x0]! * (1 - fx) + map[y1 * grid + x1]! * fx) * fy;
      const t = a / max;
      const i = (y * w + x) * 3;
      // dim the photo, add the ramp: black -> red -> yellow
      out[i] = Math.min(255, 0.35 * rgb[i]! + 255 * Math.min(1, 2 * t));
      out[i + 1] = Math.min(255, 0.35 * rgb[i + 1]! + 255 * Math.max(0, 2 * t - 1));
      out[i + 2] = Math.min(255, 0.35 * rgb[i + 2]!);
    }
  }
  return out;
}
