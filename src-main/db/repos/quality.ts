import type { QualityDTO } from '../../../src-shared/api';
import type { Db } from '../open';
import { prepared } from './statements';

export interface QualityScores {
  rankme: number;
  retrieval: number;
  sample: number;
  views: number;
  dim: number;
}

/** The photos of the quality sample: a fixed pseudo-random order (content hash), the same in every catalog. */
export function qualitySample(db: Db, limit: number): { id: number; path: string }[] {
  return prepared(db, "SELECT id, path FROM images WHERE status = 'ok' ORDER BY hash, id LIMIT ?").all(limit) as { id: number; path: string }[];
}

/** A training checkpoint's scores (a resumed run that scores a step again replaces them). */
export function putRunQuality(db: Db, runId: number, step: number, s: QualityScores): void {
  prepared(db, 'DELETE FROM quality_scores WHERE run_id = ? AND step = ? AND model_id IS NULL').run(runId, step);
  prepared(db, 'INSERT INTO quality_scores (run_id, step, rankme, retrieval, sample, views, dim) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
    runId, step, s.rankme, s.retrieval, s.sample, s.views, s.dim,
  );
}

/** A model's scores, replacing earlier ones; `from` says which run checkpoint they were measured at. */
export function putModelQuality(db: Db, modelId: number, s: QualityScores, from?: { runId: number; step: number }): void {
  db.transaction(() => {
    prepared(db, 'DELETE FROM quality_scores WHERE model_id = ?').run(modelId);
    prepared(db, 'INSERT INTO quality_scores (model_id, run_id, step, rankme, retrieval, sample, views, dim) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(
      modelId, from?.runId ?? null, from?.step ?? null, s.rankme, s.retrieval, s.sample, s.views, s.dim,
    );
  })();
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

function toDTO(r: Row): QualityDTO {
  return { rankme: r.rankme, retrieval: r.retrieval, sample: r.sample, views: r.views, dim: r.dim };
}

export function modelQuality(db: Db, modelId: number): QualityDTO | null {
  const r = prepared(db, 'SELECT * FROM quality_scores WHERE model_id = ? ORDER BY id DESC LIMIT 1').get(modelId) as Row | undefined;
  return r ? toDTO(r) : null;
}

/** A run's checkpoints in step order (the curve the Training panel draws next to the loss). */
export function runQuality(db: Db, runId: number): (QualityDTO & { runId: number; step: number })[] {
  const rows = prepared(db, 'SELECT * FROM quality_scores WHERE run_id = ? AND model_id IS NULL ORDER BY step').all(runId) as Row[];
  return rows.map((r) => ({ runId, step: r.step!, ...toDTO(r) }));
}
