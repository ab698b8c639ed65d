import { mkdirSync, renameSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';

// Where thumbnails live and how they are written. Kept apart from the rendering (thumbnail.ts) so
// that code which only finds or moves thumbnails does not load sharp.

/** A photo's thumbnail file: 256 shard folders, so no folder grows past a few thousand files. */
export function thumbPath(thumbsDir: string, id: number): string {
  return join(thumbsDir, (id % 256).toString(16).padStart(2, '0'), `${id}.jpg`);
}

/**
 * Writes `data` to a new file and flushes it to the disk before resolving: a file renamed into place
 * afterwards can never be empty after a power cut (the rename reaching the disk before the data did),
 * which a reader would otherwise serve for ever. On libuv's pool, so it overlaps other work.
 */
export async function writeFileDurable(path: string, data: Uint8Array): Promise<void> {
  const fh = await open(path, 'w');
  try {
    await fh.writeFile(data);
    await fh.datasync();
  } finally {
    await fh.close();
  }
}

/** Writes a file so that readers see either the old or the whole new file, never half of one. */
export async function writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFileDurable(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Moves a finished temporary file into place (same file system, so the rename is atomic). */
export function moveIntoPlace(tmp: string, path: string): void {
  try {
    renameSync(tmp, path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    mkdirSync(dirname(path), { recursive: true });
    renameSync(tmp, path);
  }
}
