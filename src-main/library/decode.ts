import { readFile, stat } from 'node:fs/promises';
import sharp from 'sharp';
import type { Metadata, Sharp } from 'sharp';
import type { ImageFormat } from './formats';

/**
 * The most pixels a photo may have. 100 MP covers every camera and most panoramas, and caps what a
 * decompression bomb (a tiny PNG that claims 30000 x 30000) could make us allocate: ~400 MB at most.
 */
const MAX_INPUT_PIXELS = 100_000_000;

/** A photo that cannot be imported; `message` is the reason shown to the user. */
export class DecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecodeError';
  }
}

export interface Probe {
  format: ImageFormat;
  /** size as displayed, EXIF orientation applied */
  width: number;
  height: number;
  hasAlpha: boolean;
}

/** A photo whose header was checked: `pipeline()` starts a fresh sharp pipeline, orientation applied. */
export interface OpenedImage {
  probe: Probe;
  pipeline(): Sharp;
}

// What sharp may decode here. Anything else a file turns out to be (SVG, PDF, ...) is refused even
// under a photo's extension: we import photos, not documents that can reference other files.
const SHARP_FORMATS: Readonly<Record<string, ImageFormat>> = {
  jpeg: 'jpeg', png: 'png', webp: 'webp', gif: 'gif', tiff: 'tiff', heif: 'avif',
};

// The prebuilt libvips decodes AVIF but not HEVC-coded HEIC (patents), so HEIC goes through libheif
// compiled to wasm unless sharp was built against a libvips that can do it.
const SHARP_DECODES_HEIC = sharp.format.heif.input.fileSuffix?.includes('.heic') ?? false;

const SHARP_OPTIONS = { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'warning' } as const;

/** Reads a photo's header and returns a way to decode it; throws DecodeError with a reason. */
export async function openImage(input: Buffer | string, maxPixels = MAX_INPUT_PIXELS): Promise<OpenedImage> {
  const size = typeof input === 'string' ? (await stat(input)).size : input.length;
  if (size === 0) throw new DecodeError('empty file (0 bytes)');
  let meta: Metadata;
  try {
    meta = await sharp(input, { ...SHARP_OPTIONS, limitInputPixels: false }).metadata();
  } catch (e) {
    throw classify(e);
  }
  if (meta.format === 'heif' && meta.compression === 'hevc' && !SHARP_DECODES_HEIC) {
    return openHeic(typeof input === 'string' ? await readFile(input) : input, maxPixels);
  }
  const format = SHARP_FORMATS[meta.format];
  if (!format) throw new DecodeError(`not a photo format this app imports (the file is ${meta.format.toUpperCase()})`);
  checkPixels(meta.width, meta.height, maxPixels);
  const probe: Probe = {
    format: meta.format === 'heif' && meta.compression === 'hevc' ? 'heic' : format,
    width: meta.autoOrient.width,
    height: meta.autoOrient.height,
    hasAlpha: meta.hasAlpha,
  };
  return { probe, pipeline: () => sharp(input, { ...SHARP_OPTIONS, limitInputPixels: maxPixels }).rotate() };
}

async function openHeic(bytes: Buffer, maxPixels: number): Promise<OpenedImage> {
  const { default: heicDecode } = await import('heic-decode');
  let pixels: { width: number; height: number; data: Uint8ClampedArray };
  try {
    const frames = await heicDecode.all({ buffer: bytes });
    try {
      const first = frames[0];
      if (!first) throw new DecodeError('HEIC file holds no image');
      checkPixels(first.width, first.height, maxPixels);
      pixels = await first.decode();
    } finally {
      frames.dispose();
    }
  } catch (e) {
    if (e instanceof DecodeError) throw e;
    throw new DecodeError(`cannot decode HEIC: ${firstLine(e)}`);
  }
  const raw = Buffer.from(pixels.data.buffer, pixels.data.byteOffset, pixels.data.byteLength);
  const { width, height } = pixels;
  return {
    // libheif applies the container's rotation and mirroring itself, so no rotate() here.
    probe: { format: 'heic', width, height, hasAlpha: true },
    pipeline: () => sharp(raw, { raw: { width, height, channels: 4 }, limitInputPixels: maxPixels }),
  };
}

function checkPixels(width: number, height: number, maxPixels: number): void {
  if (!(width > 0 && height > 0)) throw new DecodeError('the image has no pixels (corrupt header)');
  if (width * height > maxPixels) {
    throw new DecodeError(
      `too many pixels: ${width} x ${height} = ${Math.round((width * height) / 1e6)} MP, over the ${Math.round(maxPixels / 1e6)} MP limit (a decompression bomb, or a giant scan)`,
    );
  }
}

/** Turns a sharp/libvips error into a reason a user can act on. */
function classify(e: unknown): DecodeError {
  if (e instanceof DecodeError) return e;
  const msg = firstLine(e);
  if (/unsupported image format/i.test(msg)) return new DecodeError('not an image, or a format this app cannot read');
  if (/exceeds pixel limit/i.test(msg)) return new DecodeError(`too many pixels: over the ${MAX_INPUT_PIXELS / 1e6} MP limit`);
  if (/premature end|truncated|unexpected end|not enough data|short read|out of data/i.test(msg)) {
    return new DecodeError(`truncated or damaged file: ${msg}`);
  }
  return new DecodeError(`cannot decode: ${msg}`);
}

function firstLine(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split('\n').find((l) => l.trim())?.trim() ?? 'unknown error';
}

/** Runs a sharp pipeline, turning its failures into DecodeError. */
export async function run<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    throw classify(e);
  }
}

/** Fits inside a square of `maxSide`, never enlarging; transparency flattened onto white. */
export function fitted(img: OpenedImage, maxSide: number): Sharp {
  const p = img.pipeline().resize(maxSide, maxSide, { fit: 'inside', withoutEnlargement: true });
  return img.probe.hasAlpha ? p.flatten({ background: '#ffffff' }) : p;
}

/**
 * Raw RGB pixels (3 bytes per pixel, row-major) of a photo, orientation applied, greyscale expanded
 * to RGB, alpha flattened, the longer side at most `maxSide`. The trainer and embedder read photos
 * through this.
 */
export async function decodeRgb(path: string, maxSide: number): Promise<{ data: Uint8Array; width: number; height: number }> {
  const img = await openImage(path);
  const { data, info } = await run(() => fitted(img, maxSide).toColourspace('srgb').removeAlpha().raw().toBuffer({ resolveWithObject: true }));
  if (info.channels !== 3) throw new DecodeError(`unexpected ${info.channels} channels after conversion to RGB`);
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
}

/** A JPEG any browser shows, for formats browsers do not (TIFF, HEIC), the longer side at most `maxSide`. */
export async function toBrowserJpeg(input: Buffer | string, maxSide = 4096): Promise<Buffer> {
  const img = await openImage(input);
  return run(() => fitted(img, maxSide).toColourspace('srgb').jpeg({ quality: 90 }).toBuffer());
}
