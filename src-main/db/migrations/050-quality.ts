import type { Migration } from '../migrate';

// Label-free quality scores (RankMe, augmentation retrieval) of models and of training checkpoints;
// what a run decided about the model it kept (fine-tuning keeps the better of start and end); measured
// training-step times per backend and preset (the outcome choices' time estimates).
export const migration050: Migration = {
  version: 50,
  name: 'quality-scores-step-timings',
  up: `
    CREATE TABLE quality_scores (
      id          INTEGER PRIMARY KEY,
      model_id    INTEGER REFERENCES models(id) ON DELETE CASCADE,
      run_id      INTEGER REFERENCES training_runs(id) ON DELETE CASCADE,
      step        INTEGER,
      rankme      REAL NOT NULL,
      retrieval   REAL NOT NULL,
      sample      INTEGER NOT NULL,
      views       INTEGER NOT NULL,
      dim         INTEGER NOT NULL,
      created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
      CHECK (model_id IS NOT NULL OR (run_id IS NOT NULL AND step IS NOT NULL))
    );
    CREATE INDEX quality_scores_model ON quality_scores(model_id);
    CREATE UNIQUE INDEX quality_scores_run_step ON quality_scores(run_id, step) WHERE model_id IS NULL;

    ALTER TABLE training_runs ADD COLUMN note TEXT;

    CREATE TABLE step_timings (
      backend      TEXT NOT NULL,
      preset       TEXT NOT NULL,
      ms_per_step  REAL NOT NULL,
      measured_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
      PRIMARY KEY (backend, preset)
    );
  `,
};
