import Database from 'better-sqlite3';
import { migrate } from './migrate';
import { migrations } from './migrations';

export type Db = Database.Database;

/** Opens (creating when missing) a catalog database: WAL, foreign keys, migrations applied. */
export function openDb(file: string): Db {
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    migrate(db, migrations);
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}
