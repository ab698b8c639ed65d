import { mkdirSync, readlinkSync, symlinkSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { safeFileNameKeepExt } from './safe-name';

/**
 * Lays out photos for the official PyTorch DINO training code, which reads an ImageFolder:
 * `dir/train/all/<n>_<name>` symlinks (one class folder, no copies). n is the photo's position in
 * `images`, so two photos with one file name cannot collide. Pass `dir/train` as --data_path.
 * Re-running over an existing layout is fine when each link already points at the same photo.
 */
export function exportImageFolderForTraining(images: readonly { path: string }[], dir: string): { dataPath: string; folder: string; count: number } {
  const dataPath = join(resolve(dir), 'train');
  const folder = join(dataPath, 'all');
  mkdirSync(folder, { recursive: true });
  images.forEach((img, n) => {
    const source = resolve(img.path);
    const link = join(folder, `${n}_${safeFileNameKeepExt(basename(source))}`);
    try {
      symlinkSync(source, link);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let current: string | null = null;
      try {
        current = readlinkSync(link);
      } catch {
        // not a symlink
      }
      if (current !== source) throw new Error(`${link} exists and is not a link to ${source}; use an empty folder`, { cause: e });
    }
  });
  return { dataPath, folder, count: images.length };
}
