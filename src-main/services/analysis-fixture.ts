// Test fixture (used by *.test.ts only): a catalog with a model, photos on disk and synthetic
// embeddings in known clusters, written straight into the tables the embed job will fill.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { syntheticEmbeddings } from '../analysis/synthetic';
import { row } from '../analysis/vectors';
import { putEmbeddings } from '../db/repos/embeddings';
import { openCatalog, type Catalog } from './catalog';

export interface Fixture {
  catalog: Catalog;
  modelId: number;
  ids: number[];
  labels: Int32Array;
  vectorOf(id: number): Float32Array;
  photosDir: string;
}

export function makeAnalysisCatalog(dir: string, opts: { n: number; dim: number; clusters: number; spread?: number; seed?: number }): Fixture {
  const catalog = openCatalog(join(dir, 'catalog'));
  const photosDir = join(dir, 'photos');
  mkdirSync(photosDir, { recursive: true });
  const modelId = Number(
    catalog.db
      .prepare("INSERT INTO models (name, arch, patch_size, dim, source, checkpoint) VALUES ('test model', 'vit_tiny', 16, ?, 'trained', 'none')")
      .run(opts.dim).lastInsertRowid,
  );
  const { vectors, labels } = syntheticEmbeddings({ n: opts.n, dim: opts.dim, clusters: opts.clusters, spread: opts.spread ?? 0.4, seed: opts.seed ?? 1 });
  const insert = catalog.db.prepare("INSERT INTO images (path, bytes, mtime_ms, status, hash) VALUES (?, ?, 0, 'ok', ?)");
  const ids: number[] = [];
  catalog.db.transaction(() => {
    for (let i = 0; i < opts.n; i++) {
      const path = join(photosDir, `c${labels[i]}`, `IMG_${String(i).padStart(5, '0')}.jpg`);
      mkdirSync(join(photosDir, `c${labels[i]}`), { recursive: true });
      const bytes = Buffer.from(`fake jpeg ${i}`);
      writeFileSync(path, bytes);
      ids.push(Number(insert.run(path, bytes.length, `hash-${i}`).lastInsertRowid));
    }
  })();
  putEmbeddings(catalog.db, modelId, ids.map((imageId, i) => ({ imageId, hash: `hash-${i}`, vector: row(vectors, i) })));
  return { catalog, modelId, ids, labels, photosDir, vectorOf: (id) => row(vectors, ids.indexOf(id)) };
}
