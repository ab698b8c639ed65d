import { statSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ImportResult } from '../../../src-shared/api';
import {
  countByStatus, deleteEmbeddings, imagesUnder, markGone, markOk, upsertImages,
  type ImageRecord, type KnownImage,
} from '../../db/repos/images';
import { reasonOf, scanFolders, type ScannedFile } from '../../library/scan';
import { moveIntoPlace, thumbPath, writeFileDurable } from '../../library/thumb-store';
import type { Catalog } from '../catalog/catalog';
import { CancelledError, type JobContext } from '../jobs/job-runner';
import type { ingestFile } from '../../library/ingest';

export interface ImportOptions {
  /** photos decoded at once; sharp threads inside each, so a few suffice */
  concurrency?: number;
  thumbSize?: number;
}

/** Photos decoded at once: enough to keep every core busy while one waits on disk, few enough to bound memory. */
export function defaultConcurrency(): number {
  return Math.max(2, Math.min(4, availableParallelism()));
}

// Writes go to the database in batches (one transaction each), at most this many photos or this
// long apart, so a crash loses at most a moment of work and the UI sees photos arrive steadily.
const BATCH_MAX = 64;
const BATCH_MS = 250;

/** Absolute, existing folders, without duplicates or folders nested inside another one given. */
export function checkFolders(folders: readonly string[]): string[] {
  if (folders.length === 0) throw new Error('No folder given to import.');
  const roots: string[] = [];
  for (const f of folders) {
    const abs = resolve(f);
    let isDir: boolean;
    try {
      isDir = statSync(abs).isDirectory();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`Folder not found: ${abs}`, { cause: e });
      throw new Error(`Cannot open folder ${abs}: ${reasonOf(e)}`, { cause: e });
    }
    if (!isDir) throw new Error(`Not a folder: ${abs}`);
    roots.push(abs);
  }
  const unique = [...new Set(roots)].sort();
  return unique.filter((r) => !unique.some((o) => o !== r && isUnder(r, o)));
}

function isUnder(path: string, folder: string): boolean {
  return path.startsWith(folder.endsWith(sep) ? folder : folder + sep);
}

interface WorkItem {
  file: ScannedFile;
  known: KnownImage | undefined;
}

interface Done {
  item: WorkItem;
  record: ImageRecord;
  /** the thumbnail, written under a temporary name until the photo has an id */
  tmpThumb: string | null;
}

/** What the scan found, compared with what the catalog knows below the folders. */
interface Comparison {
  /** photos to decode: new, changed, or failed before (a permission or a disk may have been fixed) */
  work: WorkItem[];
  unchanged: number;
  /** known photos the scan no longer finds */
  goneIds: number[];
  /** files and folders the scan could not read */
  failed: { path: string; reason: string }[];
  total: number;
}

/** The import job's body: scan, compare with the catalog, decode what is new or changed, store in batches. */
export async function runImport(catalog: Catalog, roots: string[], ctx: JobContext, options: ImportOptions): Promise<ImportResult> {
  const t0 = performance.now();
  const c = await scanAndCompare(catalog, roots, ctx);
  const { imported, updated } = await importWork(catalog, c, ctx, options);
  c.failed.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { imported, unchanged: c.unchanged, updated, removed: c.goneIds.length, failed: c.failed, seconds: (performance.now() - t0) / 1000 };
}

/**
 * Scans the folders and compares what it finds with the catalog: unchanged good photos are skipped
 * without opening the file, photos gone and back unchanged are restored, photos the scan no longer
 * finds are marked gone, and what cannot be read is recorded as failed.
 */
async function scanAndCompare(catalog: Catalog, roots: string[], ctx: JobContext): Promise<Comparison> {
  const { db } = catalog;
  ctx.progress({ phase: 'scanning', done: 0, total: 0, counts: { found: 0 } });
  const scan = await scanFolders(roots, {
    signal: ctx.signal,
    onProgress: (found) => ctx.progress({ done: found, counts: { found } }),
  }).catch((e: unknown) => {
    throw ctx.signal.aborted ? new CancelledError() : e;
  });
  await ctx.checkpoint();

  const known = new Map<string, KnownImage>();
  for (const r of roots) for (const k of imagesUnder(db, r, sep)) known.set(k.path, k);
  const work: WorkItem[] = [];
  const restored: number[] = [];
  let unchanged = 0;
  const seen = new Set<string>();
  for (const file of scan.files) {
    seen.add(file.path);
    const k = known.get(file.path);
    const same = k !== undefined && k.bytes === file.bytes && k.mtime_ms === file.mtimeMs;
    // Unchanged good photos are skipped without opening the file; failed ones are retried, as a
    // permission or a disk may have been fixed without touching the file.
    if (same && k.status === 'ok') unchanged++;
    else if (same && k.status === 'gone' && k.error === null && k.hash !== null) {
      restored.push(k.id);
      unchanged++;
    } else work.push({ file, known: k });
  }
  for (const f of scan.failures) seen.add(f.path); // still there, just unreadable
  // A photo the catalog knows below these folders but the scan did not find is gone, unless it sits
  // below a folder that could not be read (then we do not know).
  const goneIds = [...known.values()]
    .filter((k) => k.status !== 'gone' && !seen.has(k.path) && !scan.unreadableDirs.some((d) => isUnder(k.path, d)))
    .map((k) => k.id);
  if (goneIds.length) markGone(db, goneIds);
  if (restored.length) markOk(db, restored);

  // Folders and links the scan could not read are listed with the photos that failed.
  const failed = scan.failures.map((f) => ({ path: f.path, reason: f.reason }));
  const scanFailures: ImageRecord[] = failed.map((f) => ({
    path: f.path, bytes: 0, mtimeMs: 0, hash: null, width: null, height: null, takenAt: null, status: 'failed', error: f.reason,
  }));
  if (scanFailures.length) upsertImages(db, scanFailures);
  return { work, unchanged, goneIds, failed, total: scan.files.length };
}

/**
 * Decodes the work a few photos at a time (a thumbnail each, under a temporary name until the photo
 * has an id) and stores the results in batches; whatever finished is kept, also when cancelled.
 */
async function importWork(catalog: Catalog, c: Comparison, ctx: JobContext, options: ImportOptions): Promise<{ imported: number; updated: number }> {
  const concurrency = Math.max(1, options.concurrency ?? defaultConcurrency());
  let done = c.unchanged;
  let imported = 0;
  let updated = 0;
  const counts = (): Record<string, number> => ({ found: c.total, done, skipped: c.unchanged, failed: c.failed.length });
  ctx.progress({ phase: 'importing', total: c.total, done, counts: counts() });

  const tmpDir = join(catalog.paths.thumbs, '.tmp', ctx.id);
  await mkdir(tmpDir, { recursive: true });
  const batch = batchWriter(catalog);
  // sharp and exifr load only when there is something to decode: a re-import of an unchanged
  // folder then costs little more than the scan.
  const ingest = c.work.length ? (await import('../../library/ingest')).ingestFile : undefined;
  let next = 0;
  let stopWith: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    try {
      while (!stopWith && next < c.work.length) {
        await ctx.checkpoint();
        // the checkpoint may yield: another worker can have taken the last photo meanwhile
        if (stopWith || next >= c.work.length) break;
        const item = c.work[next++]!;
        const d = await importOne(ingest!, item, tmpDir, options.thumbSize, ctx.signal);
        if (d.record.status === 'ok') {
          if (item.known && item.known.status !== 'failed') updated++;
          else imported++;
        } else c.failed.push({ path: d.record.path, reason: d.record.error ?? 'unknown error' });
        done++;
        ctx.progress({ done, counts: counts() });
        batch.add(d);
      }
    } catch (e) {
      // Cancelled (or a write failed): the other workers finish the photo in hand and stop.
      stopWith ??= { error: e };
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, c.work.length) }, worker));
  // Every worker has stopped: whatever finished is kept, also when the job was cancelled.
  try {
    batch.flush();
  } finally {
    await rm(tmpDir, { recursive: true, force: true });
    catalog.events.emit('library:changed', { images: countByStatus(catalog.db).ok });
  }
  if (stopWith) throw stopWith.error;
  return { imported, updated };
}

/**
 * Writes decoded photos to the database in batches (one transaction each), at most BATCH_MAX photos
 * or BATCH_MS apart, then moves their thumbnails into place under their new ids.
 */
function batchWriter(catalog: Catalog): { add(d: Done): void; flush(): void } {
  const { db } = catalog;
  let batch: Done[] = [];
  let lastFlush = Date.now();
  const flush = (): void => {
    if (batch.length === 0) return;
    const items = batch;
    batch = [];
    lastFlush = Date.now();
    const ids = db.transaction(() => {
      const ids = upsertImages(db, items.map((d) => d.record));
      // New content means old embeddings describe another picture.
      const stale = ids.filter((_, i) => {
        const d = items[i]!;
        return d.item.known?.hash != null && d.item.known.hash !== d.record.hash;
      });
      if (stale.length) deleteEmbeddings(db, stale);
      return ids;
    })();
    items.forEach((d, i) => {
      if (d.tmpThumb) moveIntoPlace(d.tmpThumb, thumbPath(catalog.paths.thumbs, ids[i]!));
    });
  };
  return {
    add(d) {
      batch.push(d);
      if (batch.length >= BATCH_MAX || Date.now() - lastFlush >= BATCH_MS) flush();
    },
    flush,
  };
}

type Ingest = typeof ingestFile;

async function importOne(ingest: Ingest, item: WorkItem, tmpDir: string, thumbSize: number | undefined, signal: AbortSignal): Promise<Done> {
  const { file } = item;
  try {
    const r = await ingest(file.path, file.bytes, thumbSize, signal);
    const tmpThumb = join(tmpDir, `${randomBytes(8).toString('hex')}.jpg`);
    await writeFileDurable(tmpThumb, r.thumbnail);
    return {
      item, tmpThumb,
      record: {
        path: file.path, bytes: file.bytes, mtimeMs: file.mtimeMs, hash: r.hash, width: r.width, height: r.height,
        takenAt: r.takenAt, status: 'ok', error: null,
      },
    };
  } catch (e) {
    if (signal.aborted) throw new CancelledError();
    // DecodeError carries a reason meant for the user; file-system errors get a short one.
    const reason = e instanceof Error && e.name === 'DecodeError' ? e.message : reasonOf(e);
    return {
      item, tmpThumb: null,
      record: { path: file.path, bytes: file.bytes, mtimeMs: file.mtimeMs, hash: null, width: null, height: null, takenAt: null, status: 'failed', error: reason },
    };
  }
}
