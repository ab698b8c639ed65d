import type { Migration } from '../migrate';

// Clustering runs are kept side by side so the user can compare them; projections are per model.
export const migration030: Migration = {
  version: 30,
  name: 'clusters-projections',
  up: `
    CREATE TABLE clusterings (
      id          INTEGER PRIMARY KEY,
      model_id    INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
      k           INTEGER NOT NULL,
      method      TEXT NOT NULL,
      params      TEXT NOT NULL DEFAULT '{}',
      created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
    );

    CREATE TABLE clusters (
      clustering_id INTEGER NOT NULL REFERENCES clusterings(id) ON DELETE CASCADE,
      cluster       INTEGER NOT NULL,
      name          TEXT NOT NULL,
      size          INTEGER NOT NULL,
      cohesion      REAL NOT NULL,
      centroid      BLOB,
      PRIMARY KEY (clustering_id, cluster)
    );

    CREATE TABLE cluster_members (
      clustering_id INTEGER NOT NULL REFERENCES clusterings(id) ON DELETE CASCADE,
      image_id      INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
      cluster       INTEGER NOT NULL,
      similarity    REAL NOT NULL,
      PRIMARY KEY (clustering_id, image_id)
    );
    CREATE INDEX cluster_members_cluster ON cluster_members(clustering_id, cluster, similarity DESC);

    CREATE TABLE projections (
      model_id  INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
      image_id  INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
      x         REAL NOT NULL,
      y         REAL NOT NULL,
      PRIMARY KEY (model_id, image_id)
    );
  `,
};
