import type { Db } from '../open';
import { statements } from './statements';

// Settings are stored as JSON text under a key, so one table holds numbers, strings and objects;
// callers validate what they read back (a hand-edited catalog must not crash the app).

const stmts = statements((db) => ({
  get: db.prepare<[string], { value: string }>('SELECT value FROM settings WHERE key = ?'),
  all: db.prepare<[], { key: string; value: string }>('SELECT key, value FROM settings'),
  set: db.prepare<[string, string]>('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
  remove: db.prepare<[string]>('DELETE FROM settings WHERE key = ?'),
}));

/** The stored value (parsed JSON), or undefined when unset or unreadable. */
export function getSetting(db: Db, key: string): unknown {
  const row = stmts(db).get.get(key);
  if (!row) return undefined;
  try {
    return JSON.parse(row.value) as unknown;
  } catch {
    return undefined;
  }
}

export function getAllSettings(db: Db): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const r of stmts(db).all.all()) {
    try {
      out[r.key] = JSON.parse(r.value) as unknown;
    } catch {
      // skip an unreadable value; the caller falls back to its default
    }
  }
  return out;
}

/** Stores several settings in one transaction; `undefined` removes a key. */
export function setSettings(db: Db, values: Record<string, unknown>): void {
  const s = stmts(db);
  db.transaction(() => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) s.remove.run(k);
      else s.set.run(k, JSON.stringify(v));
    }
  })();
}

export function setSetting(db: Db, key: string, value: unknown): void {
  setSettings(db, { [key]: value });
}
