import type { TrainMetricDTO, TrainRunDTO } from '../../../src-shared/api';
import type { TrainQualityDTO } from '../../../src-shared/quality';
import { runQuality } from '../../db/repos/quality';
import { getRun, lastRun, listMetrics, type RunRow } from '../../db/repos/training';
import { PRESETS } from '../../dino/train/presets';
import type { Catalog } from '../catalog/catalog';

// A training run as the Training panel shows it: what it changed from its preset, its loss curve and
// its label-free quality at each checkpoint. Without a run id, the latest run.

function runDTO(r: RunRow): TrainRunDTO {
  const config = JSON.parse(r.config) as Record<string, number | string | boolean | null>;
  const base = PRESETS.find((p) => p.name === r.preset)?.config as unknown as Record<string, unknown> | undefined;
  // fields the preset lacks (initFrom: the weights a fine-tune started from) count when set; the
  // backend it ran on is no setting
  const changed = Object.fromEntries(Object.entries(config).filter(([k, x]) => k !== 'backend' && (!base || (k in base ? base[k] !== x : x !== null))));
  return { id: r.id, preset: r.preset, state: r.state, changed, startedAt: r.started_at, endedAt: r.ended_at, modelId: r.model_id, note: r.note };
}

/** The run, or the latest; null when there is none. */
export function trainingRun(catalog: Catalog, runId?: number): TrainRunDTO | null {
  const r = runId === undefined ? lastRun(catalog.db) : getRun(catalog.db, runId);
  return r ? runDTO(r) : null;
}

/** The run's (or the latest run's) stored steps. */
export function trainingMetrics(catalog: Catalog, runId?: number): TrainMetricDTO[] {
  const id = runId ?? lastRun(catalog.db)?.id;
  return id === undefined ? [] : listMetrics(catalog.db, id);
}

/** The run's (or the latest run's) label-free scores, checkpoint by checkpoint. */
export function trainingQuality(catalog: Catalog, runId?: number): TrainQualityDTO[] {
  const id = runId ?? lastRun(catalog.db)?.id;
  return id === undefined ? [] : runQuality(catalog.db, id);
}
