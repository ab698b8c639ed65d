import type { ModelDTO } from '../../../src-shared/api';
import type { QualityDTO } from '../../../src-shared/quality';
import type { Db } from '../open';
import { statements } from './statements';

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

const stmts = statements((db) => ({
  insert: db.prepare<[string, string, number, number, string, string, string]>(
    'INSERT INTO models (name, arch, patch_size, dim, source, checkpoint, config) VALUES (?, ?, ?, ?, ?, ?, ?)',
  ),
  get: db.prepare<[number], ModelRow>('SELECT * FROM models WHERE id = ?'),
  byCheckpoint: db.prepare<[string], ModelRow>('SELECT * FROM models WHERE checkpoint = ? ORDER BY id DESC LIMIT 1'),
  list: db.prepare<[], ModelRow & { embedded: number }>(
    `SELECT m.*, (SELECT count(*) FROM embeddings e JOIN images i ON i.id = e.image_id
                  WHERE e.model_id = m.id AND i.status = 'ok') AS embedded
     FROM models m ORDER BY m.id DESC`,
  ),
}));

export function insertModel(db: Db, m: NewModel): number {
  return Number(stmts(db).insert.run(m.name, m.arch, m.patch_size, m.dim, m.source, m.checkpoint, m.config).lastInsertRowid);
}

export function getModel(db: Db, id: number): ModelRow | undefined {
  return stmts(db).get.get(id);
}

/** The newest model whose weights are this file, if any. */
export function modelByCheckpoint(db: Db, file: string): ModelRow | undefined {
  return stmts(db).byCheckpoint.get(file);
}

/** Newest first, each with how many present photos it has embedded. */
export function listModels(db: Db): (ModelRow & { embedded: number })[] {
  return stmts(db).list.all();
}

export function toModelDTO(m: ModelRow & { embedded?: number }, quality: QualityDTO | null = null): ModelDTO {
  return {
    id: m.id, name: m.name, arch: m.arch, patchSize: m.patch_size, dim: m.dim, source: m.source,
    createdAt: m.created_at, embedded: m.embedded ?? 0, quality,
  };
}
