import { stat } from 'node:fs/promises';
import { getImage } from '../../db/repos/images';
import { BROWSER_CONTENT_TYPES, type ImageFormat } from '../../library/formats';
import { thumbPath, writeFileAtomic } from '../../library/thumb-store';
import type { Catalog } from '../catalog/catalog';

// Photos are looked up by catalog id only: no face ever passes a path here, so nothing but what the
// catalog imported can be read. Unknown ids, photos that failed or are gone, and files that cannot be
// read any more all answer null (a 404 for the faces).

// sharp takes ~0.1 s to load: it is loaded when a photo is first decoded, not at start, since the
// first grid's thumbnails are files already.
const decoder = () => import('../../library/decode');

/** Largest side of the JPEG made for formats browsers cannot show (TIFF, HEIC). */
const VIEW_MAX_SIDE = 4096;

/** The thumbnail file of a good photo, made again from the original when it went missing. */
export async function thumbnailPath(catalog: Catalog, id: number): Promise<string | null> {
  const row = getImage(catalog.db, id);
  if (!row || row.status !== 'ok') return null;
  const file = thumbPath(catalog.paths.thumbs, id);
  try {
    // an empty file is what a power cut leaves of a write not yet on disk: made again, not served
    if ((await stat(file)).size > 0) return file;
  } catch {
    // deleted by hand, or lost in a crash between the database write and the rename
  }
  try {
    const [{ openImage }, { renderThumbnail }] = await Promise.all([decoder(), import('../../library/thumbnail')]);
    const img = await openImage(row.path);
    await writeFileAtomic(file, await renderThumbnail(img));
    return file;
  } catch {
    return null;
  }
}

/**
 * A full photo as a browser shows it: the file itself, to be streamed (a 200 MB panorama is never
 * read whole into memory), when browsers show its format; else a JPEG made from it (at most
 * VIEW_MAX_SIDE a side, so a few MB).
 */
export type FullImage =
  | { file: string; size: number; mtimeMs: number; contentType: string }
  | { bytes: Buffer; contentType: string };

export async function fullImage(catalog: Catalog, id: number): Promise<FullImage | null> {
  const row = getImage(catalog.db, id);
  if (!row || row.status !== 'ok') return null;
  let size: number;
  let mtimeMs: number;
  try {
    ({ size, mtimeMs } = await stat(row.path));
  } catch {
    return null;
  }
  // The content type comes from what the file is, not its extension: a PNG named .jpg is common.
  // sharp reads only the header of a file it is given by path.
  const format = await sniff(row.path);
  const asIs = format ? BROWSER_CONTENT_TYPES[format] : undefined;
  if (asIs) return { file: row.path, size, mtimeMs, contentType: asIs };
  try {
    const { toBrowserJpeg } = await decoder();
    return { bytes: await toBrowserJpeg(row.path, VIEW_MAX_SIDE), contentType: 'image/jpeg' };
  } catch {
    return null;
  }
}

async function sniff(file: string): Promise<ImageFormat | null> {
  try {
    const { default: sharp } = await import('sharp');
    const m = await sharp(file, { limitInputPixels: false }).metadata();
    if (m.format === 'heif') return m.compression === 'av1' ? 'avif' : 'heic';
    return (['jpeg', 'png', 'webp', 'gif', 'tiff'] as const).find((f) => f === m.format) ?? null;
  } catch {
    return null;
  }
}
