import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate, NewerCatalogError } from './migrate';
import { migrations } from './migrations';
import { openDb } from './open';

const tmp = (): string => join(mkdtempSync(join(tmpdir(), 'dino-db-')), 'catalog.sqlite');

describe('migrations', () => {
  it('creates every table, with WAL and foreign keys on', () => {
    const db = openDb(tmp());
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all();
    for (const t of ['images', 'models', 'embeddings', 'training_runs', 'training_metrics', 'clusterings', 'clusters', 'cluster_members', 'projections', 'quality_scores', 'step_timings']) {
      expect(tables).toContain(t);
    }
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('user_version', { simple: true })).toBe(migrations.at(-1)!.version);
    db.close();
  });

  it('is idempotent: a second open applies nothing', () => {
    const file = tmp();
    openDb(file).close();
    const db = new Database(file);
    expect(migrate(db, migrations)).toEqual({ from: migrations.at(-1)!.version, to: migrations.at(-1)!.version });
    db.close();
  });

  it('applies only the pending migrations, in one transaction', () => {
    const db = new Database(':memory:');
    migrate(db, migrations.slice(0, 1));
    expect(migrate(db, migrations)).toEqual({ from: 10, to: migrations.at(-1)!.version });
    const broken = [...migrations, { version: 9990, name: 'broken', up: 'CREATE TABLE x (a); CREATE TABLE x (a);' }];
    expect(() => migrate(db, broken)).toThrow();
    expect(db.pragma('user_version', { simple: true })).toBe(migrations.at(-1)!.version);
    expect(db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'x'").pluck().get()).toBe(0);
  });

  it('refuses a catalog from a newer version and leaves it untouched', () => {
    const file = tmp();
    openDb(file).close();
    const raw = new Database(file);
    raw.pragma('user_version = 999');
    raw.close();
    expect(() => openDb(file)).toThrow(NewerCatalogError);
    expect(() => openDb(file)).toThrow(/newer version of Dino Explorer/);
    const after = new Database(file);
    expect(after.pragma('user_version', { simple: true })).toBe(999);
    after.close();
  });

  it('rejects migrations whose numbers do not rise', () => {
    const db = new Database(':memory:');
    expect(() => migrate(db, [migrations[1]!, migrations[0]!])).toThrow(/does not rise/);
  });
});
