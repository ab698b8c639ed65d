import type { ImportResult, Outcome } from '../../../src-shared/api';
import { ensureModelQuality } from '../quality/model-quality';
import type { Catalog } from '../catalog/catalog';
import { runClustering, type ClusterRunOptions, type ClusterRunResult } from '../clusters/clustering';
import { runProjection, type ProjectionResult } from '../clusters/map-layout';
import { embedCatalog, type EmbedResult } from '../embedding/catalog-embedding';
import { runExport, type ExportRunOptions, type ExportRunResult } from '../exporting/cluster-export';
import type { AddedModel } from '../models/add-model';
import { isLive } from './job-runner';
import { resolveModel } from '../models/resolve-model';
import { checkFolders, runImport, type ImportOptions } from '../photos/import-photos';
import type { LabelFreeScores } from '../quality/probe-set';
import { OUTCOMES, timePresets, untimedPresets } from '../training/outcome-plans';
import { withOutcome } from '../training/start-paths';
import type { TrainOptions } from '../training/training-config';
import type { TrainResult } from '../training/training-run';

// Every kind of job the app runs (src-shared JobKind), started here: what each one runs, in what
// order, and the rules between them. The work itself is its wing's (photos/, training/, ...); the job
// runner (job-runner.ts) gives it progress, pause and cancel. Training and adding weights load the
// model code (tfjs) when such a job starts, never at the app's start.

export interface StartedJob<T> {
  id: string;
  promise: Promise<T>;
}

/**
 * Stops a measurement that is running: work started beside it would skew it (and it would slow that
 * work down). The step time is then taken from the real run (training-run.ts).
 */
function stopCalibration(catalog: Catalog): void {
  for (const j of catalog.jobs.list()) if (j.kind === 'calibrate') catalog.jobs.cancel(j.id); // cancel() passes over finished ones
}

/**
 * Imports the folders. Missing folders are refused here, before any job starts, so the caller gets a
 * plain "Folder not found" error rather than a failed job; one import runs at a time.
 */
export function startImport(catalog: Catalog, folders: readonly string[], options: ImportOptions = {}): StartedJob<ImportResult> {
  const roots = checkFolders(folders);
  if (catalog.jobs.list().some((j) => j.kind === 'import' && isLive(j))) throw new Error('An import is already running; wait for it to finish or cancel it first.');
  return catalog.jobs.start('import', (ctx) => runImport(catalog, roots, ctx, options));
}

/** Trains (or fine-tunes, or resumes) a model, then embeds the catalog with it unless told not to. */
export function startTraining(catalog: Catalog, opts: TrainOptions): StartedJob<TrainResult> {
  stopCalibration(catalog);
  return catalog.jobs.start('train', async (ctx) => (await import('../training/training-run')).train(catalog, opts, ctx));
}

/** Embeds the photos the model has not embedded yet, then measures its label-free quality where it is not known. */
export function startEmbed(catalog: Catalog, modelId: number): StartedJob<EmbedResult> {
  resolveModel(catalog, modelId, 'weights');
  return catalog.jobs.start('embed', async (ctx) => {
    const r = await embedCatalog(catalog, modelId, ctx);
    return { ...r, quality: await ensureModelQuality(catalog, modelId, ctx) };
  });
}

export function startClusterJob(catalog: Catalog, opts: ClusterRunOptions = {}): StartedJob<ClusterRunResult> {
  return catalog.jobs.start('cluster', (ctx) => runClustering(catalog, opts, ctx), { pausable: false });
}

export function startProjectionJob(catalog: Catalog, opts: { modelId?: number } = {}): StartedJob<ProjectionResult> {
  return catalog.jobs.start('project', (ctx) => runProjection(catalog, opts, ctx), { pausable: false });
}

export function startExportJob(catalog: Catalog, opts: ExportRunOptions): StartedJob<ExportRunResult> {
  return catalog.jobs.start('export', (ctx) => runExport(catalog, opts, ctx), { pausable: false });
}

/** Times the presets of these outcomes not timed yet on this backend; null when every one is. */
export async function startCalibration(catalog: Catalog, outcomes: readonly Outcome[] = OUTCOMES): Promise<StartedJob<{ timed: number }> | null> {
  const { backend, presets } = await untimedPresets(catalog, outcomes);
  if (presets.length === 0) return null;
  return catalog.jobs.start('calibrate', (job) => timePresets(catalog, backend, presets, job));
}

export interface DownloadResult extends AddedModel {
  /** photos embedded with the new model ('embed') */
  embedded?: number;
  quality?: LabelFreeScores | null;
  /** the fine-tuning job started from the new weights ('finetune') */
  trainJobId?: string;
}

/**
 * Adds official or exported weights as a model (downloading an official name); `then`: 'embed' also
 * embeds the catalog with it and measures its quality, 'finetune' does that and then starts a fine-tune
 * on the catalog's photos from it (the first-run path "official weights, then my photos").
 */
export function startModelDownload(catalog: Catalog, source: string, then: 'nothing' | 'embed' | 'finetune'): StartedJob<DownloadResult> {
  stopCalibration(catalog);
  return catalog.jobs.start('download', async (job) => {
    const { addModel } = await import('../models/add-model');
    const added = await addModel(catalog, source, job);
    if (then === 'nothing') return added;
    const embedded = await embedCatalog(catalog, added.model, job);
    const quality = await ensureModelQuality(catalog, added.model, job);
    const trainJobId = then === 'finetune' ? startTraining(catalog, await withOutcome(catalog, 'finetune', { from: added.file })).id : undefined;
    return { ...added, embedded: embedded.embedded, quality, ...(trainJobId ? { trainJobId } : {}) };
  });
}
