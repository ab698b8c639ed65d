import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { Catalog } from '../catalog/catalog';
import { fullImage, thumbnailPath } from '../photos/photo-files';
import { contentTypeOf } from './static-files';

export type PhotoKind = 'thumb' | 'full';

export interface PhotoBody {
  contentType: string;
  etag: string;
  /** bytes in the body */
  size: number;
  /** the body: a stream of the file (full photos), or bytes in memory (thumbnails, converted photos) */
  open(): Readable | Buffer;
}

/**
 * A photo or its thumbnail, looked up by catalog id only: the client never names a path, so it can
 * read nothing but what the catalog imported. Unknown ids and unreadable files are null (404).
 * A full photo the browser can show is streamed from its file, never read whole.
 */
export async function readPhoto(catalog: Catalog, id: number, kind: PhotoKind): Promise<PhotoBody | null> {
  try {
    if (kind === 'thumb') {
      const file = await thumbnailPath(catalog, id);
      if (!file) return null;
      const bytes = await readFile(file);
      return inMemory(bytes, contentTypeOf(file));
    }
    const full = await fullImage(catalog, id);
    if (!full) return null;
    if ('bytes' in full) return inMemory(full.bytes, full.contentType);
    const { file, size, mtimeMs } = full;
    // the file is not read for its ETag: its path, size and time stand for its content
    return { contentType: full.contentType, etag: etagOf(`${file}\0${size}\0${mtimeMs}`), size, open: () => createReadStream(file) };
  } catch {
    return null;
  }
}

function inMemory(bytes: Buffer, contentType: string): PhotoBody {
  return { contentType, etag: etagOf(bytes), size: bytes.length, open: () => bytes };
}

function etagOf(data: Buffer | string): string {
  return createHash('sha1').update(data).digest('base64url').slice(0, 20);
}
