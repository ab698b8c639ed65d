import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openCatalog, type Catalog } from '../catalog/catalog';

/** A labelled folder tree (sub-folder = class), as an absolute path; refused when it is no folder. */
export function labelledFolder(dir: string): string {
  const abs = resolve(dir);
  if (!statSync(abs, { throwIfNoEntry: false })?.isDirectory()) throw new Error(`Folder not found: ${abs}`);
  return abs;
}

/**
 * Runs `work` on the catalog given, or, without one, on a catalog of its own in a temporary folder,
 * deleted afterwards: an evaluation imports its data set and must not leave it in the user's catalog.
 */
export async function inScratchCatalog<T>(given: (() => Catalog) | undefined, prefix: string, work: (catalog: Catalog) => Promise<T>): Promise<T> {
  if (given) return work(given());
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const catalog = openCatalog(dir);
  try {
    return await work(catalog);
  } finally {
    await catalog.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
