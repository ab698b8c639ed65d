import type { Migration } from '../migrate';

// The search index (vector-index/) is a cache of the embeddings table and tells a changed vector by
// its version. That version was the row id, and sqlite reuses the largest row id once its row is
// deleted: re-embedding the newest photo gave the new vector the old one's version, and the index
// kept the old vector (a search off by 0.27 in similarity). Now every row carries a random 53-bit
// version, drawn anew on every insert (INSERT OR REPLACE too), so two vectors of one photo share a
// version with odds of 2^-53, also across a catalog restored from a backup, which a counter would
// repeat. Existing rows get versions here, so every saved index rebuilds once, clearing whatever a
// stale one held.
//
// `embedding_generations` counts the changes to each model's set of live embeddings (triggers, so a
// write from any process counts): the index's cheap "did anything change" test, where count, sum
// and max of row ids could collide.
export const migration040: Migration = {
  version: 40,
  name: 'embedding-versions',
  up: `
    CREATE TABLE embeddings_versioned (
      model_id  INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
      image_id  INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
      hash      TEXT NOT NULL,
      vector    BLOB NOT NULL,
      version   INTEGER NOT NULL DEFAULT (random() & 9007199254740991),
      PRIMARY KEY (model_id, image_id)
    );
    INSERT INTO embeddings_versioned (model_id, image_id, hash, vector) SELECT model_id, image_id, hash, vector FROM embeddings;
    DROP TABLE embeddings;
    ALTER TABLE embeddings_versioned RENAME TO embeddings;
    CREATE INDEX embeddings_image ON embeddings(image_id);

    CREATE TABLE embedding_generations (
      model_id    INTEGER PRIMARY KEY REFERENCES models(id) ON DELETE CASCADE,
      generation  INTEGER NOT NULL
    );
    INSERT INTO embedding_generations (model_id, generation) SELECT id, 1 FROM models;

    CREATE TRIGGER embeddings_inserted AFTER INSERT ON embeddings BEGIN
      INSERT INTO embedding_generations (model_id, generation) VALUES (NEW.model_id, 1)
        ON CONFLICT (model_id) DO UPDATE SET generation = generation + 1;
    END;
    CREATE TRIGGER embeddings_deleted AFTER DELETE ON embeddings BEGIN
      UPDATE embedding_generations SET generation = generation + 1 WHERE model_id = OLD.model_id;
    END;
    CREATE TRIGGER embeddings_updated AFTER UPDATE ON embeddings BEGIN
      UPDATE embedding_generations SET generation = generation + 1 WHERE model_id IN (OLD.model_id, NEW.model_id);
    END;
    -- a photo going (or coming back): its embeddings leave (or rejoin) the live set
    CREATE TRIGGER images_status_changed AFTER UPDATE OF status ON images WHEN OLD.status IS NOT NEW.status BEGIN
      UPDATE embedding_generations SET generation = generation + 1
        WHERE model_id IN (SELECT model_id FROM embeddings WHERE image_id = NEW.id);
    END;
  `,
};
