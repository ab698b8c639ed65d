import type { Db } from '../open';
import { prepared } from './statements';

/** A training step's measured time for a preset on a backend (the outcome choices' time estimates). */
export function getStepTiming(db: Db, backend: string, preset: string): number | null {
  const r = prepared(db, 'SELECT ms_per_step FROM step_timings WHERE backend = ? AND preset = ?').get(backend, preset) as { ms_per_step: number } | undefined;
  return r?.ms_per_step ?? null;
}

export function putStepTiming(db: Db, backend: string, preset: string, msPerStep: number): void {
  prepared(
    db,
    `INSERT INTO step_timings (backend, preset, ms_per_step) VALUES (?, ?, ?)
     ON CONFLICT(backend, preset) DO UPDATE SET ms_per_step = excluded.ms_per_step, measured_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`,
  ).run(backend, preset, msPerStep);
}
