import type { Db } from '../open';
import { statements } from './statements';

const stmts = statements((db) => ({
  get: db.prepare<[string, string], { ms_per_step: number }>('SELECT ms_per_step FROM step_timings WHERE backend = ? AND preset = ?'),
  put: db.prepare<[string, string, number]>(
    `INSERT INTO step_timings (backend, preset, ms_per_step) VALUES (?, ?, ?)
     ON CONFLICT(backend, preset) DO UPDATE SET ms_per_step = excluded.ms_per_step, measured_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`,
  ),
}));

/** A training step's measured time for a preset on a backend (the outcome choices' time estimates). */
export function getStepTiming(db: Db, backend: string, preset: string): number | null {
  return stmts(db).get.get(backend, preset)?.ms_per_step ?? null;
}

export function putStepTiming(db: Db, backend: string, preset: string, msPerStep: number): void {
  stmts(db).put.run(backend, preset, msPerStep);
}
