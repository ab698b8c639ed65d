import { deflateSync, crc32 } from 'node:zlib';
import sharp from 'sharp';

// Photo files made on the fly for tests and benchmarks, so the repository carries no binary fixtures.

/** A small photo with a colour picked by `seed`, in the given format. */
export async function makePhoto(format: 'jpeg' | 'png' | 'webp' | 'gif' | 'tiff' | 'avif', seed: number, width = 48, height = 32): Promise<Buffer> {
  const background = { r: (seed * 53) % 256, g: (seed * 97) % 256, b: (seed * 193) % 256 };
  // A diagonal bar makes every photo's pixels (and so its hash) differ from a flat fill.
  const bar = Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><path d="M0 0 L${width} ${height}" stroke="white" stroke-width="${1 + (seed % 5)}"/></svg>`);
  return sharp({ create: { width, height, channels: 3, background } })
    .composite([{ input: bar }])
    .toFormat(format)
    .toBuffer();
}

/**
 * A decompression bomb as a malicious file would be: a valid PNG header claiming width x height
 * pixels followed by a little image data. Real bombs compress gigabytes of zeros to a few MB; the
 * importer must refuse on the header alone, which this reproduces in a millisecond.
 */
export function makeBombPng(width = 30000, height = 30000): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.writeUInt8(8, 8); // bit depth
  ihdr.writeUInt8(2, 9); // colour type RGB
  // Ten rows of zeros, highly compressible, like the real thing.
  const rows = deflateSync(Buffer.alloc(10 * (1 + width * 3)), { level: 9 });
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', rows), chunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * A camera-like 12-megapixel (by default) JPEG: smooth random shapes plus sensor-like noise, so it
 * compresses and decodes like a real photo (a few MB), not like flat colour or pure noise.
 */
const noiseCache = new Map<string, Buffer>();

export async function makeCameraJpeg(seed: number, width = 4000, height = 3000): Promise<Buffer> {
  let s = seed * 2654435761 + 1;
  const rand = (): number => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  const small = Buffer.alloc(40 * 30 * 3);
  for (let i = 0; i < small.length; i++) small[i] = Math.floor(rand() * 256);
  // All in libvips: upscaled blobs, with gaussian noise laid over them as fine texture.
  // One texture per size, shared: making it costs more than the rest of the photo.
  const key = `${width}x${height}`;
  let noise = noiseCache.get(key);
  if (!noise) {
    noise = await sharp({ create: { width, height, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 40 } } }).raw().toBuffer();
    noiseCache.set(key, noise);
  }
  return sharp(small, { raw: { width: 40, height: 30, channels: 3 } })
    .resize(width, height, { kernel: 'cubic' })
    .composite([{ input: noise, raw: { width, height, channels: 3 }, blend: 'soft-light' }])
    // EXIF as a camera writes it, so the importer's EXIF read costs what it costs on real photos.
    .withExif({ IFD0: { Make: 'Dino', Model: 'Bench 12MP' }, IFD2: { DateTimeOriginal: `2024:05:${String(1 + (seed % 28)).padStart(2, '0')} 12:00:00` } })
    .jpeg({ quality: 90 })
    .toBuffer();
}
