import type { TrainMetricDTO } from '../../../src-shared/api';
import type { Db } from '../open';
import { prepared } from './statements';

export interface RunRow {
  id: number;
  model_id: number | null;
  preset: string;
  config: string;
  state: string;
  checkpoint: string | null;
  started_at: string;
  ended_at: string | null;
  note: string | null;
}

export function createRun(db: Db, preset: string, config: object): number {
  const r = prepared(db, "INSERT INTO training_runs (preset, config, state) VALUES (?, ?, 'running')").run(preset, JSON.stringify(config));
  return Number(r.lastInsertRowid);
}

/**
 * Runs left 'running' or 'paused' by a process that died (kill -9, power cut): called by the catalog's
 * writer at open, when no other process can be training on it. They become 'interrupted'; one with a
 * checkpoint is what `train --resume` continues.
 */
export function interruptOrphanedRuns(db: Db): number {
  return prepared(
    db,
    "UPDATE training_runs SET state = 'interrupted', ended_at = coalesce(ended_at, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) WHERE state IN ('running', 'paused')",
  ).run().changes;
}

export function getRun(db: Db, id: number): RunRow | undefined {
  return prepared(db, 'SELECT * FROM training_runs WHERE id = ?').get(id) as RunRow | undefined;
}

/** The newest run that did not finish (the one `train --resume` continues). */
export function lastUnfinishedRun(db: Db): RunRow | undefined {
  return prepared(db, "SELECT * FROM training_runs WHERE state != 'done' AND checkpoint IS NOT NULL ORDER BY id DESC LIMIT 1").get() as RunRow | undefined;
}

export function lastRun(db: Db): RunRow | undefined {
  return prepared(db, 'SELECT * FROM training_runs ORDER BY id DESC LIMIT 1').get() as RunRow | undefined;
}

export function updateRun(db: Db, id: number, fields: { state?: string; checkpoint?: string; modelId?: number; ended?: boolean; note?: string }): void {
  if (fields.note !== undefined) prepared(db, 'UPDATE training_runs SET note = ? WHERE id = ?').run(fields.note, id);
  if (fields.state !== undefined) prepared(db, 'UPDATE training_runs SET state = ? WHERE id = ?').run(fields.state, id);
  if (fields.checkpoint !== undefined) prepared(db, 'UPDATE training_runs SET checkpoint = ? WHERE id = ?').run(fields.checkpoint, id);
  if (fields.modelId !== undefined) prepared(db, 'UPDATE training_runs SET model_id = ? WHERE id = ?').run(fields.modelId, id);
  if (fields.ended) prepared(db, "UPDATE training_runs SET ended_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?").run(id);
}

/** A resumed run rewrites the steps after its checkpoint: INSERT OR REPLACE keeps the curve continuous. */
export function insertMetric(db: Db, m: TrainMetricDTO): void {
  prepared(
    db,
    `INSERT OR REPLACE INTO training_metrics (run_id, step, epoch, loss, lr, momentum, teacher_temp, teacher_entropy, kl, img_per_sec, data_wait)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(m.runId, m.step, m.epoch, m.loss, m.lr, m.momentum, m.teacherTemp, m.teacherEntropy, m.klTeacherStudent, m.imgPerSec, m.dataWaitFraction);
}

/**
 * Mean img/s of a preset's runs on one backend (its description names the device), or null when none
 * ran there. The first steps include warm-up (kernel compilation, decoding): skipped when there are more.
 */
export function meanImgPerSec(db: Db, preset: string, backend: string): number | null {
  const r = prepared(
    db,
    `SELECT coalesce(avg(CASE WHEN m.step > 2 THEN m.img_per_sec END), avg(m.img_per_sec)) AS ips
     FROM training_metrics m JOIN training_runs r ON r.id = m.run_id
     WHERE r.preset = ? AND json_extract(r.config, '$.backend') = ?`,
  ).get(preset, backend) as { ips: number | null };
  return r.ips;
}

export function listMetrics(db: Db, runId: number): TrainMetricDTO[] {
  const rows = prepared(db, 'SELECT * FROM training_metrics WHERE run_id = ? ORDER BY step').all(runId) as Record<string, number>[];
  return rows.map((r) => ({
    runId: r.run_id!, epoch: r.epoch!, step: r.step!, totalSteps: 0, loss: r.loss!, lr: r.lr!, momentum: r.momentum!,
    teacherTemp: r.teacher_temp!, teacherEntropy: r.teacher_entropy!, klTeacherStudent: r.kl!, imgPerSec: r.img_per_sec!,
    dataWaitFraction: r.data_wait!, etaSeconds: null, collapse: null,
  }));
}
