/**
 * The Training panel's choices by outcome (dino/train/outcomes.ts) for this collection on this backend: which
 * preset and how many epochs, and how long that takes here, from a step time measured once per backend
 * and preset (a short timed run of synthetic steps, cached in the catalog).
 */
import type { OutcomeDTO } from '../../../src-shared/api';
import { countByStatus } from '../../db/repos/images';
import { getStepTiming, putStepTiming } from '../../db/repos/step-timings';
import { OUTCOMES, outcomeEpochs, outcomeRecipe, type BackendKind, type Outcome } from '../../dino/train/outcomes';
import { getPreset } from '../../dino/train/presets';
import { probeBackend } from '../backends/backend-probe';
import type { Catalog } from '../catalog/catalog';
import type { JobContext } from '../jobs/job-runner';
import { workerModule } from '../threads/worker-entries';
import { runInWorker } from '../threads/worker-host';
import type { CalibrateWorkerData, CalibrateWorkerEvent } from './calibrate-worker';

export { OUTCOMES } from '../../dino/train/outcomes';

/** The backend the outcomes are planned for: its description (the step timings' key) and its kind. */
async function plannedBackend(): Promise<{ backend: string; kind: BackendKind }> {
  const probed = await probeBackend();
  return { backend: probed.description, kind: probed.gpu ? 'gpu' : 'cpu' };
}

export async function backendKind(): Promise<BackendKind> {
  return (await plannedBackend()).kind;
}

/** The preset and epochs an outcome trains with on this kind of backend, for `numImages` photos. */
export function outcomePlan(outcome: Outcome, numImages: number, kind: BackendKind): { preset: string; epochs: number; steps: number; fromWeights: boolean } {
  const recipe = outcomeRecipe(outcome, kind);
  const c = getPreset(recipe.preset).config;
  const epochs = outcomeEpochs(recipe, c.epochs, numImages, c.batchSize);
  return { preset: recipe.preset, epochs, steps: epochs * Math.floor(numImages / c.batchSize), fromWeights: recipe.fromWeights };
}

export async function outcomeDTOs(catalog: Catalog): Promise<OutcomeDTO[]> {
  const photos = countByStatus(catalog.db).ok;
  const { backend, kind } = await plannedBackend();
  return OUTCOMES.map((o, i) => {
    const recipe = outcomeRecipe(o, kind);
    const plan = outcomePlan(o, photos, kind);
    const ms = getStepTiming(catalog.db, backend, plan.preset);
    return {
      outcome: o, title: recipe.title, description: recipe.description, preset: plan.preset, epochs: plan.epochs, steps: plan.steps,
      secondsEstimate: ms === null ? null : (plan.steps * ms) / 1000,
      fromWeights: recipe.fromWeights,
      // the first outcome; it maps to the backend's own preset (a GPU recipe on a GPU)
      isDefault: i === 0,
    };
  });
}

/**
 * The presets of these outcomes not timed yet on this backend, and the backend they would be timed
 * on (its description, under which the timings are stored).
 */
export async function untimedPresets(catalog: Catalog, outcomes: readonly Outcome[] = OUTCOMES): Promise<{ backend: string; presets: string[] }> {
  const { backend, kind } = await plannedBackend();
  return { backend, presets: [...new Set(outcomes.map((o) => outcomeRecipe(o, kind).preset))].filter((p) => getStepTiming(catalog.db, backend, p) === null) };
}

/**
 * Times each preset with a few synthetic steps in the calibration worker and stores its step time for
 * this backend. One outcome at a time as the user looks at it: a CPU preset takes seconds, a ViT-S/16
 * fine-tune on a CPU half a minute.
 */
export function timePresets(catalog: Catalog, backend: string, presets: readonly string[], job: JobContext): Promise<{ timed: number }> {
  job.progress({ phase: "measuring this computer's training speed", done: 0, total: presets.length });
  let done = 0;
  return runInWorker<CalibrateWorkerData, CalibrateWorkerEvent, { timed: number }>(
    workerModule('calibrate-worker'),
    { presets: presets.map((name) => ({ name, config: getPreset(name).config })) },
    job,
    (e) => {
      putStepTiming(catalog.db, backend, e.preset, e.msPerStep);
      job.progress({ done: ++done });
    },
    // nothing to keep: a cancelled measurement ends at once
    { killAfterMs: 0 },
  );
}
