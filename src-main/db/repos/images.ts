import type { FailureDTO, ImageDTO, ImageStatus } from '../../../src-shared/api';
import type { Db } from '../open';
import { statements } from './statements';

/** One row of `images`, as stored. */
export interface ImageRow {
  id: number;
  path: string;
  bytes: number;
  mtime_ms: number;
  hash: string | null;
  width: number | null;
  height: number | null;
  taken_at: string | null;
  status: ImageStatus;
  error: string | null;
  imported_at: string;
}

/** What the importer learnt about one file: a decoded photo, or the reason it failed. */
export interface ImageRecord {
  path: string;
  bytes: number;
  mtimeMs: number;
  hash: string | null;
  width: number | null;
  height: number | null;
  takenAt: string | null;
  status: 'ok' | 'failed';
  error: string | null;
}

/** The columns the incremental import compares, for every photo below a folder. */
export type KnownImage = Pick<ImageRow, 'id' | 'path' | 'bytes' | 'mtime_ms' | 'hash' | 'status' | 'error'>;

const stmts = statements((db) => ({
  under: db.prepare<[string, string], KnownImage>(
    'SELECT id, path, bytes, mtime_ms, hash, status, error FROM images WHERE path >= ? AND path < ?',
  ),
  upsert: db.prepare<[string, number, number, string | null, number | null, number | null, string | null, string, string | null], { id: number }>(
    `INSERT INTO images (path, bytes, mtime_ms, hash, width, height, taken_at, status, error)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT(path) DO UPDATE SET bytes = excluded.bytes, mtime_ms = excluded.mtime_ms, hash = excluded.hash,
     width = excluded.width, height = excluded.height, taken_at = excluded.taken_at, status = excluded.status,
     error = excluded.error, imported_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
     RETURNING id`,
  ),
  // `error` is kept on the way to 'gone', so a photo that comes back unchanged knows whether it was good.
  markGone: db.prepare<[number]>("UPDATE images SET status = 'gone' WHERE id = ?"),
  markOk: db.prepare<[number]>("UPDATE images SET status = 'ok', error = NULL WHERE id = ?"),
  deleteEmbeddings: db.prepare<[number]>('DELETE FROM embeddings WHERE image_id = ?'),
  get: db.prepare<[number], ImageRow>('SELECT * FROM images WHERE id = ?'),
  page: db.prepare<[number, number], ImageRow>(
    "SELECT * FROM images WHERE status = 'ok' ORDER BY path LIMIT ? OFFSET ?",
  ),
  failures: db.prepare<[], { id: number; path: string; error: string | null }>(
    "SELECT id, path, error FROM images WHERE status = 'failed' ORDER BY path",
  ),
  counts: db.prepare<[], { status: ImageStatus; n: number }>('SELECT status, COUNT(*) AS n FROM images GROUP BY status'),
  // the photos present, as the jobs that read them all want them
  presentById: db.prepare<[], { id: number; path: string }>("SELECT id, path FROM images WHERE status = 'ok' ORDER BY id"),
  presentByPath: db.prepare<[], { id: number; path: string }>("SELECT id, path FROM images WHERE status = 'ok' ORDER BY path, id"),
  sameContent: db.prepare<[], { id: number; path: string; hash: string }>(
    `SELECT id, path, hash FROM images WHERE status = 'ok' AND hash IN
     (SELECT hash FROM images WHERE status = 'ok' AND hash IS NOT NULL GROUP BY hash HAVING count(*) > 1)`,
  ),
}));

/** [low, high) bounds of every path strictly below `folder` (which carries no trailing separator). */
function prefixRange(folder: string, sep: string): [string, string] {
  const base = folder.endsWith(sep) ? folder : folder + sep;
  return [base, base.slice(0, -1) + String.fromCharCode(sep.charCodeAt(0) + 1)];
}

/** Every known photo below a folder (any status), for the incremental import. */
export function imagesUnder(db: Db, folder: string, sep: string): KnownImage[] {
  return stmts(db).under.all(...prefixRange(folder, sep));
}

/** Inserts or updates photos in one transaction; returns their ids in the same order. */
export function upsertImages(db: Db, records: readonly ImageRecord[]): number[] {
  const s = stmts(db);
  return db.transaction(() =>
    records.map((r) => s.upsert.get(r.path, r.bytes, r.mtimeMs, r.hash, r.width, r.height, r.takenAt, r.status, r.error)!.id),
  )();
}

/** Marks photos whose files vanished; their embeddings go too, so search stops returning them. */
export function markGone(db: Db, ids: readonly number[]): void {
  const s = stmts(db);
  db.transaction(() => {
    for (const id of ids) {
      s.markGone.run(id);
      s.deleteEmbeddings.run(id);
    }
  })();
}

/** Photos that were gone and came back unchanged. */
export function markOk(db: Db, ids: readonly number[]): void {
  const s = stmts(db);
  db.transaction(() => {
    for (const id of ids) s.markOk.run(id);
  })();
}

/** Drops embeddings of photos whose content changed, so the next embed job recomputes them. */
export function deleteEmbeddings(db: Db, imageIds: readonly number[]): void {
  const s = stmts(db);
  db.transaction(() => {
    for (const id of imageIds) s.deleteEmbeddings.run(id);
  })();
}

export function getImage(db: Db, id: number): ImageRow | undefined {
  return stmts(db).get.get(id);
}

/**
 * A page of good photos in path order: the order of a file browser (folder by folder), stable
 * across re-imports, and served straight from the unique index on path.
 */
export function listImages(db: Db, offset: number, limit: number): { items: ImageRow[]; total: number } {
  const s = stmts(db);
  return { items: s.page.all(limit, offset), total: countByStatus(db).ok };
}

export function listFailures(db: Db): FailureDTO[] {
  return stmts(db).failures.all().map((r) => ({ id: r.id, path: r.path, reason: r.error ?? 'unknown error' }));
}

export function countByStatus(db: Db): Record<ImageStatus, number> {
  const out: Record<ImageStatus, number> = { ok: 0, failed: 0, gone: 0 };
  for (const r of stmts(db).counts.all()) out[r.status] = r.n;
  return out;
}

export function toImageDTO(r: ImageRow): ImageDTO {
  return {
    id: r.id, path: r.path, bytes: r.bytes, width: r.width, height: r.height,
    takenAt: r.taken_at, status: r.status, error: r.error,
  };
}

/** Every photo present ('ok'), by id, or by path: the order a seeded training run reads them in. */
export function presentImages(db: Db, order: 'id' | 'path' = 'id'): { id: number; path: string }[] {
  const s = stmts(db);
  return (order === 'path' ? s.presentByPath : s.presentById).all();
}

/** Present photos whose content hash another present photo shares (exact duplicates), by id. */
export function sameContentImages(db: Db): { id: number; path: string; hash: string }[] {
  return stmts(db).sameContent.all();
}
