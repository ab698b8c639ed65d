// Test fixture (used by *.test.ts only): a catalog with a model, photos on disk and synthetic
// embeddings in known clusters, written straight into the tables the embed job will fill.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { syntheticEmbeddings } from '../analysis/synthetic';
import { row } from '../analysis/vectors';
import { putEmbeddings } from '../db/repos/embeddings';
import { upsertImages } from '../db/repos/images';
import { insertModel } from '../db/repos/models';
import { openCatalog, type Catalog } from '../services/catalog/catalog';

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
  const modelId = insertModel(catalog.db, { name: 'test model', arch: 'vit_tiny', patch_size: 16, dim: opts.dim, source: 'trained', checkpoint: 'none', config: '{}' });
  const { vectors, labels } = syntheticEmbeddings({ n: opts.n, dim: opts.dim, clusters: opts.clusters, spread: opts.spread ?? 0.4, seed: opts.seed ?? 1 });
  const photos = Array.from({ length: opts.n }, (_, i) => {
    const path = join(photosDir, `c${labels[i]}`, `IMG_${String(i).padStart(5, '0')}.jpg`);
    mkdirSync(join(photosDir, `c${labels[i]}`), { recursive: true });
    const bytes = Buffer.from(`fake jpeg ${i}`);
    writeFileSync(path, bytes);
    return { path, bytes: bytes.length, mtimeMs: 0, hash: `hash-${i}`, width: null, height: null, takenAt: null, status: 'ok' as const, error: null };
  });
  const ids = upsertImages(catalog.db, photos);
  putEmbeddings(catalog.db, modelId, ids.map((imageId, i) => ({ imageId, hash: `hash-${i}`, vector: row(vectors, i) })));
  return { catalog, modelId, ids, labels, photosDir, vectorOf: (id) => row(vectors, ids.indexOf(id)) };
}
