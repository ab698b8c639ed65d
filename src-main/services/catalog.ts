import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { openDb, type Db } from '../db/open';
import { EventBus } from './events';
import { Jobs } from './jobs';

export interface CatalogPaths {
  root: string;
  db: string;
  thumbs: string;
  models: string;
  index: string;
  cache: string;
}

/** One open catalog: the database, its folders, the job runner and the event bus. */
export interface Catalog {
  readonly paths: CatalogPaths;
  readonly db: Db;
  readonly jobs: Jobs;
  readonly events: EventBus;
  /** work to finish before the database closes (e.g. writing pending index files) */
  beforeClose(hook: () => void): void;
  close(): Promise<void>;
}

/** The user's default catalog: the platform's app-data folder, as Electron's userData would be. */
export function defaultCatalogDir(): string {
  if (process.env.DINO_EXPLORER_CATALOG) return resolve(process.env.DINO_EXPLORER_CATALOG);
  const home = homedir();
  if (process.platform === 'win32') return join(process.env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'Dino Explorer', 'catalog');
  if (process.platform === 'darwin') return join(home, 'Library', 'Application Support', 'Dino Explorer', 'catalog');
  return join(process.env.XDG_DATA_HOME ?? join(home, '.local', 'share'), 'dino-explorer', 'catalog');
}

export function catalogPaths(dir: string): CatalogPaths {
  const root = resolve(dir);
  return {
    root,
    db: join(root, 'catalog.sqlite'),
    thumbs: join(root, 'thumbs'),
    models: join(root, 'models'),
    index: join(root, 'index'),
    cache: join(root, 'cache'),
  };
}

export function openCatalog(dir: string): Catalog {
  const paths = catalogPaths(dir);
  try {
    for (const d of [paths.root, paths.thumbs, paths.models, paths.index, paths.cache]) mkdirSync(d, { recursive: true });
  } catch (e) {
    throw new Error(`Cannot create the catalog folder ${paths.root}: ${(e as Error).message}`, { cause: e });
  }
  const db = openDb(paths.db);
  const jobs = new Jobs();
  const events = new EventBus();
  jobs.on('progress', (job) => events.emit('job:progress', job));
  let closed = false;
  const hooks = new Set<() => void>();
  return {
    paths, db, jobs, events,
    beforeClose: (hook) => hooks.add(hook),
    async close() {
      if (closed) return;
      closed = true;
      jobs.cancelAll();
      await jobs.settle();
      for (const h of hooks) h();
      db.close();
    },
  };
}
