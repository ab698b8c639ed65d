/**
 * The Training panel's choices by outcome (dino/train/outcomes.ts) for this collection on this backend: which
 * preset and how many epochs, and how long that takes here, from a step time measured once per backend
 * and preset (a short timed run of synthetic steps, cached in the catalog).
 */
import type { OutcomeDTO } from '../../src-shared/api';
import { countByStatus } from '../db/repos/images';
import { getStepTiming, putStepTiming } from '../db/repos/step-timings';
import { OUTCOMES, outcomeEpochs, outcomeRecipe, type BackendKind, type Outcome } from '../dino/train/outcomes';
import { getPreset } from '../dino/train/presets';
import { probeBackend } from './backend-probe';
import type { Catalog } from './catalog';
import { workerModule } from './worker-entries';
import { runInWorker } from './worker-host';
import type { CalibrateWorkerData, CalibrateWorkerEvent } from './workers/calibrate-worker';

export async function backendKind(): Promise<BackendKind> {
  return (await probeBackend()).gpu ? 'gpu' : 'cpu';
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
  const probed = await probeBackend();
  const [backend, kind] = [probed.description, probed.gpu ? 'gpu' : 'cpu'] as const;
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
 * Times the presets of these outcomes not measured yet on this backend, as a job; null when all are.
 * One outcome at a time as the user looks at it: a CPU preset takes seconds, a ViT-S/16 fine-tune
 * on a CPU half a minute.
 */
export async function startCalibration(
  catalog: Catalog,
  outcomes: readonly Outcome[] = OUTCOMES,
): Promise<{ id: string; promise: Promise<{ timed: number }> } | null> {
  const probed = await probeBackend();
  const [backend, kind] = [probed.description, probed.gpu ? 'gpu' : 'cpu'] as const;
  const names = [...new Set(outcomes.map((o) => outcomeRecipe(o, kind).preset))].filter((p) => getStepTiming(catalog.db, backend, p) === null);
  if (names.length === 0) return null;
  return catalog.jobs.start('calibrate', (job) => {
    job.progress({ phase: "measuring this computer's training speed", done: 0, total: names.length });
    let done = 0;
    return runInWorker<CalibrateWorkerData, CalibrateWorkerEvent, { timed: number }>(
      workerModule('calibrate-worker'),
      { presets: names.map((name) => ({ name, config: getPreset(name).config })) },
      job,
      (e) => {
        putStepTiming(catalog.db, backend, e.preset, e.msPerStep);
        job.progress({ done: ++done });
      },
      // nothing to keep: a cancelled measurement ends at once
      { killAfterMs: 0 },
    );
  });
}

/**
 * Stops a measurement that is running: work started beside it would skew it (and it would slow that
 * work down). The step time is then taken from the real run (services/trainer.ts).
 */
export function stopCalibration(catalog: Catalog): void {
  for (const j of catalog.jobs.list()) if (j.kind === 'calibrate' && (j.state === 'running' || j.state === 'paused')) catalog.jobs.cancel(j.id);
}
