import type { Db } from '../open';

/**
 * Every repo's statements, prepared once per connection (better-sqlite3's advice: preparing costs more
 * than running most of them), in one cache: connection -> repo -> its statements. A repo lists its
 * statements as `db.prepare<Args, Row>(sql)`, so every call site is typed by the statement itself:
 *
 *   const stmts = statements((db) => ({ get: db.prepare<[number], ModelRow>('SELECT * FROM models WHERE id = ?') }));
 *   stmts(db).get.get(id) // ModelRow | undefined
 */
const cache = new WeakMap<Db, Map<(db: Db) => unknown, unknown>>();

export function statements<S>(prepare: (db: Db) => S): (db: Db) => S {
  return (db) => {
    let perRepo = cache.get(db);
    if (!perRepo) cache.set(db, (perRepo = new Map()));
    let s = perRepo.get(prepare) as S | undefined;
    if (s === undefined) perRepo.set(prepare, (s = prepare(db)));
    return s;
  };
}
