import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { acquireCatalogLock, CatalogLockedError, type CatalogLock } from '../../db/lock';
import { LATEST_SCHEMA, openDb, schemaVersion, type Db } from '../../db/open';
import { interruptOrphanedRuns } from '../../db/repos/training';
import { EventBus } from './event-bus';
import { Jobs } from '../jobs/job-runner';

export { CatalogLockedError } from '../../db/lock';
export { CatalogDamagedError } from '../../db/open';

export interface CatalogPaths {
  root: string;
  db: string;
  /** the write lock (db/lock.ts) */
  lock: string;
  thumbs: string;
  models: string;
  index: string;
  cache: string;
}

/** What opening the catalog found and put right (left behind by a process that died). */
export interface CatalogRecovery {
  /** training runs that were 'running' and are now 'interrupted' (resumable from their checkpoint) */
  interruptedRuns: number;
  /** temporary files removed: thumbnails of an import, index and model files cut off mid-write */
  sweptFiles: number;
}

/** One open catalog: the database, its folders, the job runner and the event bus. */
export interface Catalog {
  readonly paths: CatalogPaths;
  readonly db: Db;
  readonly jobs: Jobs;
  readonly events: EventBus;
  /** opened without the write lock (another process writes): nothing may be written, index files included */
  readonly readOnly: boolean;
  readonly recovered: CatalogRecovery;
  /** work to finish before the database closes (e.g. writing pending index files) */
  beforeClose(hook: () => void): void;
  close(): Promise<void>;
}

export interface OpenCatalogOptions {
  /**
   * for commands that only read: they take no lock (a long export must not keep the app from
   * starting), and so also work while another process writes
   */
  readOnly?: boolean;
  /** who opens it, for the message another opener gets: 'the app', 'dino-explorer import', ... */
  face?: string;
}

/** The user's default catalog: the platform's app-data folder, as Electron's userData would be. */
export function defaultCatalogDir(): string {
  if (process.env.DINO_EXPLORER_CATALOG) return resolve(process.env.DINO_EXPLORER_CATALOG);
  const home = homedir();
  if (process.platform === 'win32') return join(process.env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'Dino Explorer', 'catalog');
  if (process.platform === 'darwin') return join(home, 'Library', 'Application Support', 'Dino Explorer', 'catalog');
  return join(process.env.XDG_DATA_HOME ?? join(home, '.local', 'share'), 'dino-explorer', 'catalog');
}

function catalogPaths(dir: string): CatalogPaths {
  const root = resolve(dir);
  return {
    root,
    db: join(root, 'catalog.sqlite'),
    lock: join(root, 'catalog.lock'),
    thumbs: join(root, 'thumbs'),
    models: join(root, 'models'),
    index: join(root, 'index'),
    cache: join(root, 'cache'),
  };
}

/**
 * Opens the catalog in `dir` (creating it when missing). A writer takes the catalog's lock (a second
 * writer is refused with CatalogLockedError, saying who holds it), checks the database, backs it up
 * before a migration, and puts right what a dead process left: runs still 'running', temporary files.
 */
export function openCatalog(dir: string, opts: OpenCatalogOptions = {}): Catalog {
  const paths = catalogPaths(dir);
  try {
    for (const d of [paths.root, paths.thumbs, paths.models, paths.index, paths.cache]) mkdirSync(d, { recursive: true });
  } catch (e) {
    throw new Error(`Cannot create the catalog folder ${paths.root}: ${(e as Error).message}`, { cause: e });
  }
  const face = opts.face ?? `dino-explorer (${process.argv.slice(2, 3).join(' ') || 'node'})`;
  if (opts.readOnly) {
    prepareForReading(paths, face);
    return catalogOf(paths, openDb(paths.db, { readOnly: true }), null, { interruptedRuns: 0, sweptFiles: 0 });
  }
  const lock = acquireCatalogLock(paths.root, paths.lock, face);
  let db: Db;
  try {
    db = openDb(paths.db);
  } catch (e) {
    lock.release();
    throw e;
  }
  // with the lock held no other process runs a job here: whatever looks in progress was cut off
  const recovered = { interruptedRuns: interruptOrphanedRuns(db), sweptFiles: sweepTemporaryFiles(paths) };
  return catalogOf(paths, db, lock, recovered);
}

/** A missing or old database is created or migrated by a writer first, when no one else writes. */
function prepareForReading(paths: CatalogPaths, face: string): void {
  if (existsSync(paths.db) && schemaVersion(paths.db) >= LATEST_SCHEMA) return;
  let lock: CatalogLock;
  try {
    lock = acquireCatalogLock(paths.root, paths.lock, face);
  } catch (e) {
    if (e instanceof CatalogLockedError) return; // its holder has created and migrated it
    throw e;
  }
  try {
    openDb(paths.db).close();
  } finally {
    lock.release();
  }
}

/**
 * Temporary files only a dead process leaves: an import's thumbnails waiting for their photo's id
 * (thumbs/.tmp/<job>), and index or model files cut off before their rename (*.tmp-<pid>).
 */
function sweepTemporaryFiles(paths: CatalogPaths): number {
  let n = 0;
  const tmpThumbs = join(paths.thumbs, '.tmp');
  if (existsSync(tmpThumbs)) {
    for (const job of readdirSync(tmpThumbs, { withFileTypes: true })) n += job.isDirectory() ? readdirSync(join(tmpThumbs, job.name)).length : 1;
    rmSync(tmpThumbs, { recursive: true, force: true });
  }
  for (const dir of [paths.index, paths.models]) {
    for (const f of readdirSync(dir)) {
      if (!/\.tmp-\d+$/.test(f)) continue;
      rmSync(join(dir, f), { force: true });
      n++;
    }
  }
  return n;
}

function catalogOf(paths: CatalogPaths, db: Db, lock: CatalogLock | null, recovered: CatalogRecovery): Catalog {
  const jobs = new Jobs();
  const events = new EventBus();
  jobs.on('progress', (job) => events.emit('job:progress', job));
  let closed = false;
  const hooks = new Set<() => void>();
  return {
    paths, db, jobs, events, recovered,
    readOnly: lock === null,
    beforeClose: (hook) => hooks.add(hook),
    async close() {
      if (closed) return;
      closed = true;
      jobs.cancelAll();
      await jobs.settle();
      try {
        for (const h of hooks) h();
        db.close();
      } finally {
        lock?.release();
      }
    },
  };
}
