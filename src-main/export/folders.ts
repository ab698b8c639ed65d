import * as nodeFs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { ExportInput, ExportMode, ExportedFile } from './export-input';
import { manifestCsv, manifestJson } from './manifest';
import { safeFileName, safeFileNameKeepExt } from './safe-name';
import { uniqueName } from './unique-name';

export type { ExportCluster, ExportInput, ExportMode } from './export-input';

export interface ExportResult {
  exported: number;
  to: string;
  /** path of clusters.csv */
  manifest: string;
  json: string;
  folders: string[];
  /** photos whose source file could not be read (vanished since import); skipped */
  missing: string[];
}

/**
 * The file operations an export uses; tests swap them to simulate a full disk. Asynchronous (libuv's
 * pool): copying gigabytes must not hold the main thread, which serves the UI meanwhile.
 */
export interface ExportIo {
  copyFile: typeof fsp.copyFile;
  link: typeof fsp.link;
  symlink: typeof fsp.symlink;
  writeFile: typeof fsp.writeFile;
  mkdir: typeof fsp.mkdir;
}

export class ExportError extends Error {
  constructor(message: string, readonly code?: string) {
    super(message);
    this.name = 'ExportError';
  }
}

function errCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

/** Turns an fs error into the message the user sees: what happened, where, and what to do. */
function explain(e: unknown, to: string, done: number, total: number): ExportError {
  const code = errCode(e);
  const sofar = `${done} of ${total} photos were exported before it stopped, and no manifest was written.`;
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new ExportError(`The disk holding ${to} is full. ${sofar} Free some space (or pick another folder) and export again; nothing is ever overwritten.`, code);
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new ExportError(`Cannot write to ${to}: permission denied or read-only. ${sofar} Pick a folder you can write to.`, code);
    case 'ENOTDIR':
      return new ExportError(`Cannot export to ${to}: a file is in the way of a folder. ${sofar}`, code);
    case 'EXDEV':
      return new ExportError(`Hard links cannot cross disks (${to} is on another disk than the photos). Choose copy or symlink instead. ${sofar}`, code);
    default:
      return new ExportError(`Export to ${to} failed: ${(e as Error).message}. ${sofar}`, code);
  }
}

/**
 * Writes `content` to a temporary file in `dir`, then gives it a unique final name: a manifest is
 * either complete or absent. link() refuses to replace an existing file, so even a name taken in
 * the meantime is never overwritten.
 */
async function placeManifest(io: ExportIo, tmp: string, dir: string, name: string, taken: Set<string>): Promise<string> {
  for (;;) {
    const final = join(dir, uniqueName(dir, name, taken, true));
    try {
      await io.link(tmp, final);
      return final;
    } catch (e) {
      if (errCode(e) === 'EEXIST') continue;
      if (errCode(e) === 'EPERM' || errCode(e) === 'ENOTSUP' || errCode(e) === 'EOPNOTSUPP') {
        // no hard links on this file system (FAT, some network shares): rename after the check
        if (!nodeFs.existsSync(final)) {
          await fsp.rename(tmp, final);
          return final;
        }
        continue;
      }
      throw e;
    }
  }
}

/**
 * Exports clusters to `to` in the ImageFolder layout: one sub-folder per cluster (its name made safe
 * for every OS; a name already taken gets " (2)"), each photo copied, hard-linked or symlinked under
 * its own file name (collisions get " (2)"), then clusters.csv and clusters.json (also suffixed when
 * present). Nothing that exists is ever overwritten. 'manifest' mode writes only the two manifests,
 * pointing at the photos where they are. A full disk or an unwritable folder stops with an
 * ExportError; files already placed stay (they are complete), the manifests are not written.
 * `checkpoint` is awaited before each photo: it throws to cancel (a CancelledError passes through).
 */
export async function exportClusters(
  input: ExportInput,
  target: string,
  mode: ExportMode,
  opts: { io?: ExportIo; onProgress?(done: number, total: number): void; checkpoint?(): Promise<void> | void } = {},
): Promise<ExportResult> {
  const io = opts.io ?? fsp;
  const to = resolve(target);
  const total = input.clusters.reduce((s, c) => s + c.members.length, 0);
  const files: ExportedFile[] = [];
  const folders: string[] = [];
  const missing: string[] = [];
  let done = 0;
  const tmps: string[] = [];
  try {
    await io.mkdir(to, { recursive: true });
    const takenTop = new Set<string>();
    for (const c of input.clusters) {
      let folder: string | null = null;
      const taken = new Set<string>();
      if (mode !== 'manifest') {
        folder = uniqueName(to, safeFileName(c.name, `cluster ${c.id}`), takenTop);
        await io.mkdir(join(to, folder));
        folders.push(join(to, folder));
      }
      for (const m of c.members) {
        await opts.checkpoint?.();
        const source = resolve(m.path);
        if (!nodeFs.existsSync(source)) {
          // vanished since import: skipped and reported, never a link to nothing
          missing.push(source);
          done++;
          continue;
        }
        let dest = source;
        if (folder !== null) {
          const dir = join(to, folder);
          for (;;) {
            dest = join(dir, uniqueName(dir, safeFileNameKeepExt(basename(source)), taken, true));
            try {
              if (mode === 'copy') await io.copyFile(source, dest, nodeFs.constants.COPYFILE_EXCL);
              else if (mode === 'hardlink') await io.link(source, dest);
              else await io.symlink(source, dest);
              break;
            } catch (e) {
              if (errCode(e) === 'EEXIST') continue; // taken meanwhile: next suffix
              throw e;
            }
          }
        }
        files.push({ imageId: m.imageId, path: dest, source, clusterId: c.id, clusterName: c.name, folder, similarity: m.similarity });
        done++;
        opts.onProgress?.(done, total);
      }
    }
    const tmpCsv = join(to, `.clusters.csv.tmp-${process.pid}-${Date.now()}`);
    const tmpJson = join(to, `.clusters.json.tmp-${process.pid}-${Date.now()}`);
    tmps.push(tmpCsv, tmpJson);
    await io.writeFile(tmpCsv, manifestCsv(input, files), { flag: 'wx' });
    await io.writeFile(tmpJson, manifestJson(input, files, mode), { flag: 'wx' });
    const takenManifest = new Set<string>();
    const json = await placeManifest(io, tmpJson, to, 'clusters.json', takenManifest);
    const manifest = await placeManifest(io, tmpCsv, to, 'clusters.csv', takenManifest);
    return { exported: files.length, to, manifest, json, folders, missing };
  } catch (e) {
    if (e instanceof ExportError) throw e;
    if (e && (e as Error).name === 'CancelledError') throw e;
    throw explain(e, to, done, total);
  } finally {
    for (const t of tmps) nodeFs.rmSync(t, { force: true });
  }
}
