import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Catalog } from '../services/catalog';
import { fullImage, thumbnailPath } from '../services/photos';
import { contentTypeOf } from './static-files';

export type PhotoKind = 'thumb' | 'full';

export interface PhotoBytes {
  bytes: Buffer;
  contentType: string;
  etag: string;
}

/**
 * A photo or its thumbnail, looked up by catalog id only: the client never names a path, so it can
 * read nothing but what the catalog imported. Unknown ids and unreadable files are null (404).
 */
export async function readPhoto(catalog: Catalog, id: number, kind: PhotoKind): Promise<PhotoBytes | null> {
  try {
    if (kind === 'thumb') {
      const file = await thumbnailPath(catalog, id);
      if (!file) return null;
      const bytes = await readFile(file);
      return { bytes, contentType: contentTypeOf(file), etag: etagOf(bytes) };
    }
    const full = await fullImage(catalog, id);
    if (!full) return null;
    const bytes = Buffer.from(full.bytes);
    return { bytes, contentType: full.contentType, etag: etagOf(bytes) };
  } catch {
    return null;
  }
}

function etagOf(bytes: Buffer): string {
  return createHash('sha1').update(bytes).digest('base64url').slice(0, 20);
}
