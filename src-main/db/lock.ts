import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import Database from 'better-sqlite3';

// One writer per catalog. The app and the CLI (or two windows, or two CLI commands) writing one
// catalog at once interleave index saves and import runs. The lock is an exclusive sqlite lock on a
// file of its own, held for as long as the catalog is open: the operating system drops it when the
// process dies however it dies (kill -9 included), so there is never a stale lock to clean up or a
// reused pid to mistake for the holder. Who holds it is written beside it, for the refusal message.

export interface LockHolder {
  pid: number;
  host: string;
  /** what holds it: 'the app', 'dino-explorer import', ... */
  face: string;
  /** ISO time */
  since: string;
}

export class CatalogLockedError extends Error {
  constructor(
    readonly root: string,
    readonly holder: LockHolder | null,
  ) {
    const who = holder ? `${holder.face} (process ${holder.pid}${holder.host !== hostname() ? ` on ${holder.host}` : ''}, since ${holder.since})` : 'another process';
    super(
      `The catalog ${root} is open in ${who}, which may be writing to it. Close that first, or wait for it to finish; ` +
        'commands that only read (status, search, duplicates, outliers, export) work meanwhile.',
    );
    this.name = 'CatalogLockedError';
  }
}

export interface CatalogLock {
  release(): void;
}

/** Takes the write lock of the catalog at `root`, or throws CatalogLockedError naming who holds it. */
export function acquireCatalogLock(root: string, lockFile: string, face: string): CatalogLock {
  const holderFile = `${lockFile}.json`;
  const db = new Database(lockFile, { timeout: 0 });
  try {
    // EXCLUSIVE locking mode keeps the lock of the first transaction until the connection closes
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
    db.exec('COMMIT');
  } catch (e) {
    db.close();
    if ((e as { code?: string }).code === 'SQLITE_BUSY') throw new CatalogLockedError(root, readHolder(holderFile));
    throw e;
  }
  const holder: LockHolder = { pid: process.pid, host: hostname(), face, since: new Date().toISOString() };
  writeFileSync(holderFile, `${JSON.stringify(holder)}\n`);
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      rmSync(holderFile, { force: true });
      db.close();
    },
  };
}

function readHolder(file: string): LockHolder | null {
  try {
    const h = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockHolder>;
    if (typeof h.pid !== 'number' || typeof h.face !== 'string' || typeof h.host !== 'string' || typeof h.since !== 'string') return null;
    return { pid: h.pid, host: h.host.slice(0, 100), face: h.face.slice(0, 100), since: h.since.slice(0, 40) };
  } catch {
    // written a moment after the lock is taken: a reader can come in between
    return null;
  }
}
