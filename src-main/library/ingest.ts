import { readFile } from 'node:fs/promises';
import { openImage } from './decode';
import { readTakenAt } from './exif';
import type { ImageFormat } from './formats';
import { hashBytes, hashFile } from './hash';
import { renderThumbnail, THUMB_SIZE } from './thumbnail';

/** Everything the catalog records about a good photo, plus its thumbnail's JPEG bytes. */
export interface Ingested {
  hash: string;
  width: number;
  height: number;
  takenAt: string | null;
  format: ImageFormat;
  thumbnail: Buffer;
}

// Files up to this size are read once into memory and hashed, probed and decoded from that one
// buffer; bigger ones (giant TIFF scans) are hashed as a stream and decoded by libvips from disk.
const READ_WHOLE_MAX = 256 * 1024 * 1024;

/**
 * Reads one photo: content hash, size with orientation applied, taken-at, thumbnail.
 * Throws DecodeError (with the reason for the user) or a file-system error.
 */
export async function ingestFile(path: string, bytes: number, thumbSize = THUMB_SIZE, signal?: AbortSignal): Promise<Ingested> {
  if (bytes > READ_WHOLE_MAX) {
    const [hash, img] = await Promise.all([hashFile(path, signal), openImage(path)]);
    const thumbnail = await renderThumbnail(img, thumbSize);
    return { hash, width: img.probe.width, height: img.probe.height, takenAt: null, format: img.probe.format, thumbnail };
  }
  const data = await readFile(path, { signal });
  const img = await openImage(data);
  // The thumbnail runs on libuv's pool while this thread hashes and parses EXIF.
  const thumbPromise = renderThumbnail(img, thumbSize);
  thumbPromise.catch(() => undefined);
  const hash = hashBytes(data);
  const takenAt = await readTakenAt(data);
  const thumbnail = await thumbPromise;
  return { hash, width: img.probe.width, height: img.probe.height, takenAt, format: img.probe.format, thumbnail };
}
