import type { TrainMetricDTO } from '../../../src-shared/api';
import type { Db } from '../open';
import { statements } from './statements';

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

type RawMetric = {
  run_id: number; step: number; epoch: number; loss: number; lr: number; momentum: number; teacher_temp: number; teacher_entropy: number;
  kl: number; img_per_sec: number; data_wait: number;
};

const NOW = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

const stmts = statements((db) => ({
  create: db.prepare<[string, string]>("INSERT INTO training_runs (preset, config, state) VALUES (?, ?, 'running')"),
  interruptOrphans: db.prepare<[]>(
    `UPDATE training_runs SET state = 'interrupted', ended_at = coalesce(ended_at, ${NOW}) WHERE state IN ('running', 'paused')`,
  ),
  get: db.prepare<[number], RunRow>('SELECT * FROM training_runs WHERE id = ?'),
  lastUnfinished: db.prepare<[], RunRow>("SELECT * FROM training_runs WHERE state != 'done' AND checkpoint IS NOT NULL ORDER BY id DESC LIMIT 1"),
  last: db.prepare<[], RunRow>('SELECT * FROM training_runs ORDER BY id DESC LIMIT 1'),
  setNote: db.prepare<[string, number]>('UPDATE training_runs SET note = ? WHERE id = ?'),
  setState: db.prepare<[string, number]>('UPDATE training_runs SET state = ? WHERE id = ?'),
  setCheckpoint: db.prepare<[string, number]>('UPDATE training_runs SET checkpoint = ? WHERE id = ?'),
  setModel: db.prepare<[number, number]>('UPDATE training_runs SET model_id = ? WHERE id = ?'),
  setEnded: db.prepare<[number]>(`UPDATE training_runs SET ended_at = ${NOW} WHERE id = ?`),
  putMetric: db.prepare<[number, number, number, number, number, number, number, number, number, number, number]>(
    `INSERT OR REPLACE INTO training_metrics (run_id, step, epoch, loss, lr, momentum, teacher_temp, teacher_entropy, kl, img_per_sec, data_wait)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ),
  meanImgPerSec: db.prepare<[string, string], { ips: number | null }>(
    `SELECT coalesce(avg(CASE WHEN m.step > 2 THEN m.img_per_sec END), avg(m.img_per_sec)) AS ips
     FROM training_metrics m JOIN training_runs r ON r.id = m.run_id
     WHERE r.preset = ? AND json_extract(r.config, '$.backend') = ?`,
  ),
  metrics: db.prepare<[number], RawMetric>('SELECT * FROM training_metrics WHERE run_id = ? ORDER BY step'),
}));

export function createRun(db: Db, preset: string, config: object): number {
  return Number(stmts(db).create.run(preset, JSON.stringify(config)).lastInsertRowid);
}

/**
 * Runs left 'running' or 'paused' by a process that died (kill -9, power cut): called by the catalog's
 * writer at open, when no other process can be training on it. They become 'interrupted'; one with a
 * checkpoint is what `train --resume` continues.
 */
export function interruptOrphanedRuns(db: Db): number {
  return stmts(db).interruptOrphans.run().changes;
}

export function getRun(db: Db, id: number): RunRow | undefined {
  return stmts(db).get.get(id);
}

/** The newest run that did not finish (the one `train --resume` continues). */
export function lastUnfinishedRun(db: Db): RunRow | undefined {
  return stmts(db).lastUnfinished.get();
}

export function lastRun(db: Db): RunRow | undefined {
  return stmts(db).last.get();
}

export function updateRun(db: Db, id: number, fields: { state?: string; checkpoint?: string; modelId?: number; ended?: boolean; note?: string }): void {
  const s = stmts(db);
  if (fields.note !== undefined) s.setNote.run(fields.note, id);
  if (fields.state !== undefined) s.setState.run(fields.state, id);
  if (fields.checkpoint !== undefined) s.setCheckpoint.run(fields.checkpoint, id);
  if (fields.modelId !== undefined) s.setModel.run(fields.modelId, id);
  if (fields.ended) s.setEnded.run(id);
}

/** A resumed run rewrites the steps after its checkpoint: INSERT OR REPLACE keeps the curve continuous. */
export function insertMetric(db: Db, m: TrainMetricDTO): void {
  stmts(db).putMetric.run(m.runId, m.step, m.epoch, m.loss, m.lr, m.momentum, m.teacherTemp, m.teacherEntropy, m.klTeacherStudent, m.imgPerSec, m.dataWaitFraction);
}

/**
 * Mean img/s of a preset's runs on one backend (its description names the device), or null when none
 * ran there. The first steps include warm-up (kernel compilation, decoding): skipped when there are more.
 */
export function meanImgPerSec(db: Db, preset: string, backend: string): number | null {
  return stmts(db).meanImgPerSec.get(preset, backend)!.ips;
}

export function listMetrics(db: Db, runId: number): TrainMetricDTO[] {
  return stmts(db).metrics.all(runId).map((r) => ({
    runId: r.run_id, epoch: r.epoch, step: r.step, totalSteps: 0, loss: r.loss, lr: r.lr, momentum: r.momentum,
    teacherTemp: r.teacher_temp, teacherEntropy: r.teacher_entropy, klTeacherStudent: r.kl, imgPerSec: r.img_per_sec,
    dataWaitFraction: r.data_wait, etaSeconds: null, collapse: null,
  }));
}
