import type { Migration } from '../migrate';

// Photos and their decode results. A failed photo stays in the table with its reason so the UI can
// list it; a photo whose file vanished is marked 'gone' rather than deleted, so its embeddings and
// cluster memberships can be dropped in one place (services) and history stays explainable.
export const migration010: Migration = {
  version: 10,
  name: 'images',
  up: `
    CREATE TABLE images (
      id          INTEGER PRIMARY KEY,
      path        TEXT NOT NULL UNIQUE,
      bytes       INTEGER NOT NULL,
      mtime_ms    INTEGER NOT NULL,
      hash        TEXT,
      width       INTEGER,
      height      INTEGER,
      taken_at    TEXT,
      status      TEXT NOT NULL CHECK (status IN ('ok', 'failed', 'gone')),
      error       TEXT,
      imported_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
    );
    CREATE INDEX images_status ON images(status);
    CREATE INDEX images_hash ON images(hash);

    CREATE TABLE settings (
      key   TEXT PRIMARY KEY,
      value TEXT NOT NULL
    );
  `,
};
