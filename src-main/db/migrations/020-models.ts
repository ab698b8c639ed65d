import type { Migration } from '../migrate';

// Models, training runs with per-step metrics, and embeddings (one row per model and image).
export const migration020: Migration = {
  version: 20,
  name: 'models-training-embeddings',
  up: `
    CREATE TABLE models (
      id          INTEGER PRIMARY KEY,
      name        TEXT NOT NULL,
      arch        TEXT NOT NULL,
      patch_size  INTEGER NOT NULL,
      dim         INTEGER NOT NULL,
      source      TEXT NOT NULL CHECK (source IN ('trained', 'imported')),
      checkpoint  TEXT NOT NULL,
      config      TEXT NOT NULL DEFAULT '{}',
      created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
    );

    CREATE TABLE training_runs (
      id          INTEGER PRIMARY KEY,
      model_id    INTEGER REFERENCES models(id) ON DELETE SET NULL,
      preset      TEXT NOT NULL,
      config      TEXT NOT NULL,
      state       TEXT NOT NULL,
      checkpoint  TEXT,
      started_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
      ended_at    TEXT
    );

    CREATE TABLE training_metrics (
      run_id            INTEGER NOT NULL REFERENCES training_runs(id) ON DELETE CASCADE,
      step              INTEGER NOT NULL,
      epoch             INTEGER NOT NULL,
      loss              REAL NOT NULL,
      lr                REAL NOT NULL,
      momentum          REAL NOT NULL,
      teacher_temp      REAL NOT NULL,
      teacher_entropy   REAL NOT NULL,
      kl                REAL NOT NULL,
      img_per_sec       REAL NOT NULL,
      data_wait         REAL NOT NULL,
      PRIMARY KEY (run_id, step)
    );

    CREATE TABLE embeddings (
      model_id  INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
      image_id  INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
      hash      TEXT NOT NULL,
      vector    BLOB NOT NULL,
      PRIMARY KEY (model_id, image_id)
    );
  `,
};
