import type { QualityDTO } from '../../../src-shared/quality';
import type { Db } from '../open';
import { statements } from './statements';

export interface QualityScores {
  rankme: number;
  retrieval: number;
  sample: number;
  views: number;
  dim: number;
}

interface Row {
  model_id: number | null;
  run_id: number | null;
  step: number | null;
  rankme: number;
  retrieval: number;
  sample: number;
  views: number;
  dim: number;
}

const stmts = statements((db) => ({
  sample: db.prepare<[number], { id: number; path: string }>("SELECT id, path FROM images WHERE status = 'ok' ORDER BY hash, id LIMIT ?"),
  deleteRun: db.prepare<[number, number]>('DELETE FROM quality_scores WHERE run_id = ? AND step = ? AND model_id IS NULL'),
  putRun: db.prepare<[number, number, number, number, number, number, number]>(
    'INSERT INTO quality_scores (run_id, step, rankme, retrieval, sample, views, dim) VALUES (?, ?, ?, ?, ?, ?, ?)',
  ),
  deleteModel: db.prepare<[number]>('DELETE FROM quality_scores WHERE model_id = ?'),
  putModel: db.prepare<[number, number | null, number | null, number, number, number, number, number]>(
    'INSERT INTO quality_scores (model_id, run_id, step, rankme, retrieval, sample, views, dim) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  ),
  ofModel: db.prepare<[number], Row>('SELECT * FROM quality_scores WHERE model_id = ? ORDER BY id DESC LIMIT 1'),
  ofRun: db.prepare<[number], Row>('SELECT * FROM quality_scores WHERE run_id = ? AND model_id IS NULL ORDER BY step'),
}));

/** The photos of the quality sample: a fixed pseudo-random order (content hash), the same in every catalog. */
export function qualitySample(db: Db, limit: number): { id: number; path: string }[] {
  return stmts(db).sample.all(limit);
}

/** A training checkpoint's scores (a resumed run that scores a step again replaces them). */
export function putRunQuality(db: Db, runId: number, step: number, s: QualityScores): void {
  const q = stmts(db);
  db.transaction(() => {
    q.deleteRun.run(runId, step);
    q.putRun.run(runId, step, s.rankme, s.retrieval, s.sample, s.views, s.dim);
  })();
}

/** A model's scores, replacing earlier ones; `from` says which run checkpoint they were measured at. */
export function putModelQuality(db: Db, modelId: number, s: QualityScores, from?: { runId: number; step: number }): void {
  const q = stmts(db);
  db.transaction(() => {
    q.deleteModel.run(modelId);
    q.putModel.run(modelId, from?.runId ?? null, from?.step ?? null, s.rankme, s.retrieval, s.sample, s.views, s.dim);
  })();
}

function toDTO(r: Row): QualityDTO {
  return { rankme: r.rankme, retrieval: r.retrieval, sample: r.sample, views: r.views, dim: r.dim };
}

export function modelQuality(db: Db, modelId: number): QualityDTO | null {
  const r = stmts(db).ofModel.get(modelId);
  return r ? toDTO(r) : null;
}

/** A run's checkpoints in step order (the curve the Training panel draws next to the loss). */
export function runQuality(db: Db, runId: number): (QualityDTO & { runId: number; step: number })[] {
  return stmts(db).ofRun.all(runId).map((r) => ({ runId, step: r.step!, ...toDTO(r) }));
}
