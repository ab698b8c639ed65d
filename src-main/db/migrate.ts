import type { Database } from 'better-sqlite3';

export interface Migration {
  version: number;
  name: string;
  up: string;
}

export class NewerCatalogError extends Error {
  constructor(readonly found: number, readonly supported: number) {
    super(
      `This catalog was written by a newer version of Dino Explorer (schema ${found}; this version knows up to ${supported}). ` +
        'Update the app, or open another catalog. Nothing was changed.',
    );
    this.name = 'NewerCatalogError';
  }
}

/** Applies the pending migrations in one transaction and records the schema in user_version. */
export function migrate(db: Database, migrations: readonly Migration[]): { from: number; to: number } {
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i]!.version <= migrations[i - 1]!.version) {
      throw new Error(`migration ${migrations[i]!.name} does not rise above ${migrations[i - 1]!.version}`);
    }
  }
  const latest = migrations.at(-1)?.version ?? 0;
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > latest) throw new NewerCatalogError(current, latest);
  const pending = migrations.filter((m) => m.version > current);
  if (pending.length === 0) return { from: current, to: current };
  db.transaction(() => {
    for (const m of pending) db.exec(m.up);
    db.pragma(`user_version = ${latest}`);
  })();
  return { from: current, to: latest };
}
