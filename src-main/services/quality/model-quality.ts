/**
 * Label-free quality of the catalog's models (services/label-free.ts does the measuring, in a worker):
 * the sample is the catalog's first QUALITY_SAMPLE photos in content-hash order, the same photos for
 * every model and checkpoint, so their scores compare.
 */
import { getModel } from '../../db/repos/models';
import { modelQuality, putModelQuality, qualitySample } from '../../db/repos/quality';
import type { Catalog } from '../catalog/catalog';
import type { JobContext } from '../jobs/job-runner';
import type { LabelFreeScores } from './probe-set';
import { workerModule } from '../threads/worker-entries';
import { runInWorker } from '../threads/worker-host';
import type { QualityWorkerData, QualityWorkerEvent } from './quality-worker';

/** Photos RankMe measures (ViT-S/16 embeds ~10 a second with the native BLAS path here: ~40 s in all). */
const QUALITY_SAMPLE = 256;
/** Photos of the sample given an augmented twin in the retrieval probe. */
const QUALITY_VIEWS = 128;

export interface ProbeSample {
  items: { id: number; path: string }[];
  views: number;
}

export function probeSample(catalog: Catalog): ProbeSample {
  return { items: qualitySample(catalog.db, QUALITY_SAMPLE), views: QUALITY_VIEWS };
}

/** Whether scores were measured on this sample (same photos and twins: they compare with new ones). */
export function measuredOn(q: { sample: number; views: number }, sample: ProbeSample): boolean {
  return q.sample === sample.items.length && q.views === Math.min(sample.views, sample.items.length);
}

/** Scores a model file, a `random:` spec or 'pixels' on a sample (nothing stored). */
export async function scoreWeights(model: string, sample: ProbeSample, job?: JobContext): Promise<LabelFreeScores> {
  if (sample.items.length < 2) throw new Error('The label-free quality needs at least 2 photos.');
  return runInWorker<QualityWorkerData, QualityWorkerEvent, LabelFreeScores>(workerModule('quality-worker'), { model, ...sample }, job, (e) => job?.progress({ phase: e.phase }));
}

/** Measures a model on the catalog's sample and stores the scores with it. */
async function scoreModel(catalog: Catalog, modelId: number, sample: ProbeSample, job?: JobContext): Promise<LabelFreeScores> {
  const m = getModel(catalog.db, modelId);
  if (!m) throw new Error(`There is no model ${modelId} in this catalog.`);
  const s = await scoreWeights(m.checkpoint, sample, job);
  putModelQuality(catalog.db, modelId, s);
  return s;
}

/** The model's stored scores when they were measured on the sample the catalog has now; else measures them. */
export async function ensureModelQuality(catalog: Catalog, modelId: number, job?: JobContext): Promise<LabelFreeScores | null> {
  const sample = probeSample(catalog);
  if (sample.items.length < 2) return null;
  const have = modelQuality(catalog.db, modelId);
  if (have && measuredOn(have, sample)) return have;
  // the sample just compared is the one measured: read once, it cannot move in between
  return scoreModel(catalog, modelId, sample, job);
}
