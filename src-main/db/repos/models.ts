import type { ModelDTO, QualityDTO } from '../../../src-shared/api';
import type { Db } from '../open';
import { prepared } from './statements';

export interface ModelRow {
  id: number;
  name: string;
  arch: string;
  patch_size: number;
  dim: number;
  source: 'trained' | 'imported';
  checkpoint: string;
  config: string;
  created_at: string;
}

export type NewModel = Omit<ModelRow, 'id' | 'created_at'>;

export function insertModel(db: Db, m: NewModel): number {
  const r = prepared(db, 'INSERT INTO models (name, arch, patch_size, dim, source, checkpoint, config) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
    m.name, m.arch, m.patch_size, m.dim, m.source, m.checkpoint, m.config,
  );
  return Number(r.lastInsertRowid);
}

export function getModel(db: Db, id: number): ModelRow | undefined {
  return prepared(db, 'SELECT * FROM models WHERE id = ?').get(id) as ModelRow | undefined;
}

/** Newest first, each with how many present photos it has embedded. */
export function listModels(db: Db): (ModelRow & { embedded: number })[] {
  return prepared(
    db,
    `SELECT m.*, (SELECT count(*) FROM embeddings e JOIN images i ON i.id = e.image_id
                  WHERE e.model_id = m.id AND i.status = 'ok') AS embedded
     FROM models m ORDER BY m.id DESC`,
  ).all() as (ModelRow & { embedded: number })[];
}

export function toModelDTO(m: ModelRow & { embedded?: number }, quality: QualityDTO | null = null): ModelDTO {
  return {
    id: m.id, name: m.name, arch: m.arch, patchSize: m.patch_size, dim: m.dim, source: m.source,
    createdAt: m.created_at, embedded: m.embedded ?? 0, quality,
  };
}
