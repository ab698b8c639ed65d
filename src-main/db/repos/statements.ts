import type { Statement } from 'better-sqlite3';
import type { Db } from '../open';

/**
 * Prepares each statement once per database connection (better-sqlite3's advice: preparing is the
 * expensive part). `prepared(db, sql)` returns the cached statement.
 */
const cache = new WeakMap<Db, Map<string, Statement<unknown[]>>>();

export function prepared(db: Db, sql: string): Statement<unknown[]> {
  let m = cache.get(db);
  if (!m) cache.set(db, (m = new Map()));
  let s = m.get(sql);
  if (!s) m.set(sql, (s = db.prepare<unknown[]>(sql)));
  return s;
}
