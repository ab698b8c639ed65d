import type { Dirent, Stats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { formatOfPath, type ImageFormat } from './formats';

export interface ScannedFile {
  path: string;
  bytes: number;
  mtimeMs: number;
  format: ImageFormat;
}

export interface ScanFailure {
  path: string;
  reason: string;
}

export interface ScanResult {
  /** photos found, sorted by path so imports run (and ids rise) in a stable order */
  files: ScannedFile[];
  /** photos or folders that could not be read, with the reason */
  failures: ScanFailure[];
  /** folders that could not be listed: what lies below them is unknown, not gone */
  unreadableDirs: string[];
}

/** The file-system calls the scan makes; tests inject failures through it. */
export interface ScanFs {
  readdir(path: string): Promise<Dirent[]>;
  stat(path: string): Promise<Stats>;
}

export interface ScanOptions {
  signal?: AbortSignal;
  /** called after each folder with the number of photos found so far */
  onProgress?(found: number): void;
  fs?: ScanFs;
}

const nodeFs: ScanFs = {
  readdir: (p) => readdir(p, { withFileTypes: true }),
  stat: (p) => stat(p),
};

// Folders that hold no user photos but often sit inside photo folders: version control, package
// trees, recycle bins, NAS (Synology @eaDir) and macOS metadata. Dot-folders are skipped as well.
const SYSTEM_DIRS = new Set(
  ['node_modules', '$recycle.bin', 'recycler', 'system volume information', '@eadir', '#recycle', '#snapshot', '__macosx', 'lost+found'],
);

/** True for a folder or file name the scan never enters or imports (hidden or system). */
export function isSkippedName(name: string): boolean {
  return name.startsWith('.') || SYSTEM_DIRS.has(name.toLowerCase());
}

const STAT_CONCURRENCY = 32;

/**
 * Lists every photo below the given folders. Symbolic links are followed, but each real folder
 * (device + inode) is entered once, so a link loop ends. A folder or file that cannot be read is
 * recorded as a failure and the scan goes on.
 */
export async function scanFolders(roots: readonly string[], options: ScanOptions = {}): Promise<ScanResult> {
  const fs = options.fs ?? nodeFs;
  const files: ScannedFile[] = [];
  const failures: ScanFailure[] = [];
  const unreadableDirs: string[] = [];
  const seenDirs = new Set<string>();
  const seenFiles = new Set<string>();
  const queue: string[] = [];

  const enterDir = (dir: string, st: Stats): void => {
    const key = `${st.dev}:${st.ino}`;
    if (seenDirs.has(key)) return; // a link back to a folder already scanned (or a loop)
    seenDirs.add(key);
    queue.push(dir);
  };

  for (const r of roots) {
    const dir = resolve(r);
    try {
      const st = await fs.stat(dir);
      if (!st.isDirectory()) throw new Error('not a folder');
      enterDir(dir, st);
    } catch (e) {
      failures.push({ path: dir, reason: reasonOf(e) });
      unreadableDirs.push(dir);
    }
  }

  while (queue.length > 0) {
    options.signal?.throwIfAborted();
    const dir = queue.shift()!;
    let entries: Dirent[];
    try {
      entries = await fs.readdir(dir);
    } catch (e) {
      failures.push({ path: dir, reason: `cannot read folder: ${reasonOf(e)}` });
      unreadableDirs.push(dir);
      continue;
    }
    // Names sorted so the order of the queue, and so of ties in `seenDirs`, is reproducible.
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const toStat: { path: string; format: ImageFormat | null; dirent: Dirent }[] = [];
    for (const d of entries) {
      if (isSkippedName(d.name)) continue;
      const path = join(dir, d.name);
      const format = formatOfPath(d.name);
      // Plain files of other types need no stat; folders, links and unknown types do.
      if (d.isFile() && !format) continue;
      if (d.isDirectory() || d.isFile() || d.isSymbolicLink() || isUnknown(d)) toStat.push({ path, format, dirent: d });
    }
    for (let i = 0; i < toStat.length; i += STAT_CONCURRENCY) {
      const chunk = toStat.slice(i, i + STAT_CONCURRENCY);
      const stats = await Promise.allSettled(chunk.map((c) => fs.stat(c.path)));
      chunk.forEach((c, j) => {
        const s = stats[j]!;
        if (s.status === 'rejected') {
          // A broken link or an unreadable entry: report it only where it claims to be a photo or a folder.
          if (c.format || c.dirent.isDirectory()) failures.push({ path: c.path, reason: reasonOf(s.reason) });
          return;
        }
        const st = s.value;
        if (st.isDirectory()) enterDir(c.path, st);
        else if (st.isFile() && c.format) {
          // The same file reached twice through a linked folder is listed once.
          const key = `${st.dev}:${st.ino}`;
          if (seenFiles.has(key)) return;
          seenFiles.add(key);
          files.push({ path: c.path, bytes: st.size, mtimeMs: Math.trunc(st.mtimeMs), format: c.format });
        }
      });
    }
    options.onProgress?.(files.length);
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { files, failures, unreadableDirs };
}

function isUnknown(d: Dirent): boolean {
  return !d.isFile() && !d.isDirectory() && !d.isSymbolicLink() && !d.isFIFO() && !d.isSocket() && !d.isBlockDevice() && !d.isCharacterDevice();
}

/** A short human reason for a file-system error: "permission denied" rather than a stack. */
export function reasonOf(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOENT':
      return 'not found (deleted, or a broken link)';
    case 'ELOOP':
      return 'too many levels of symbolic links';
    case 'EIO':
      return 'input/output error (damaged disk?)';
    case 'ENOTDIR':
      return 'not a folder';
    default:
      return e instanceof Error ? e.message : String(e);
  }
}
