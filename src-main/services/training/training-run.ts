import { basename, join } from 'node:path';
import type { TrainMetricDTO } from '../../../src-shared/api';
import { PRIMARY_QUALITY, qualityScore, type TrainQualityDTO } from '../../../src-shared/quality';
import { getPreset, type DinoConfig } from '../../dino/train/presets';
import { netConfigs } from '../../dino/train/net-configs';
import { insertModel, modelByCheckpoint } from '../../db/repos/models';
import { modelQuality, putModelQuality, putRunQuality, runQuality } from '../../db/repos/quality';
import { putStepTiming } from '../../db/repos/step-timings';
import { presentImages } from '../../db/repos/images';
import { createRun, getRun, insertMetric, lastUnfinishedRun, updateRun } from '../../db/repos/training';
import type { Catalog } from '../catalog/catalog';
import { embedCatalog, type EmbedResult } from '../embedding/catalog-embedding';
import { CancelledError, type JobContext } from '../jobs/job-runner';
import { backendPreference } from '../catalog/app-settings';
import { runTrainJob } from '../threads/compute-host';
import type { ViTArchInfo } from '../../dino/weights/inspect';
import { officialTitle } from '../../dino/weights/official-title';
import { findOfficial } from '../../dino/weights/official';
import { resolveWeights } from '../../dino/weights/resolve';
import type { LabelFreeScores } from '../quality/probe-set';
import { measuredOn, probeSample, type ProbeSample } from '../quality/model-quality';
import { readWeightsInWorker } from '../models/weights-reader';
import { addModel } from '../models/add-model';
import { setActiveModel } from '../models/resolve-model';
import type { TrainWorkerData, TrainWorkerEvent } from './train-worker';
import { resolveConfig, type TrainOptions } from './training-config';

/**
 * A resumable checkpoint at least this often (the first one this long after the start): a killed
 * run loses at most a minute. Writing cpu-patch8's state takes milliseconds; a ViT-S fine-tune's
 * (student, teacher, Adam moments: about 0.7 GB) a few seconds, not measured here.
 */
const DEFAULT_CHECKPOINT_EVERY_MS = 60_000;

export interface TrainResult {
  model: number;
  run: number;
  preset: string;
  epochs: number;
  steps: number;
  totalSteps: number;
  finalLoss: number | null;
  stoppedEarly: boolean;
  seconds: number;
  backend: string;
  embedding?: EmbedResult;
  /** the label-free quality of the model the run ended with (null when not measured) */
  quality: LabelFreeScores | null;
  /** fine-tuning: which model it kept; 'start' means the weights it began from scored best */
  kept?: 'start' | 'checkpoint' | 'end';
  /** what the run decided, in a sentence for the user (Training panel, CLI) */
  note: string | null;
}

/** A run as it trains: the one this call started, or the unfinished one it resumes. */
interface Run {
  id: number;
  preset: string;
  config: DinoConfig;
  /** the pretrained weights a fine-tune started from (null: from scratch) */
  startFile: string | null;
  /** fine-tuning started by this call: the weights both nets load */
  initFrom?: string;
  resumed: boolean;
  /** the training state, rewritten at every checkpoint */
  stateFile: string;
  /** the teacher as a model file, written at the end (and, fine-tuning, at every better checkpoint) */
  modelFile: string;
}

/** How the run is scored: the label-free quality at the start and every checkpoint, unless asked not to. */
interface Scoring {
  probe?: ProbeSample;
  /** fine-tuning keeps the best-scoring of its start and its checkpoints */
  keepBest: boolean;
  /** scores by step, those stored by an earlier part of a resumed run included */
  scored: Map<number, TrainQualityDTO>;
}

type ComputeResult = Awaited<ReturnType<typeof runTrainJob>>;

/**
 * Trains a DINO model on the catalog's photos, as a new run (a preset, or a fine-tune from pretrained
 * weights) or the unfinished one resumed: the compute side trains (threads/compute-host.ts), every
 * step and score is stored here as it comes, and the model the run keeps becomes the active one, then
 * embeds the catalog unless told not to.
 */
export async function train(catalog: Catalog, opts: TrainOptions, job?: JobContext): Promise<TrainResult> {
  const t0 = Date.now();
  const run = await openRun(catalog, opts, job);
  // by path, not id: the importer's workers insert in whatever order decoding finishes, so ids differ
  // between two imports of one folder, and a seeded run must see the same batches on both
  const items = presentImages(catalog.db, 'path');
  if (items.length === 0) throw new Error('The catalog has no photos: import a folder first.');
  const probe = opts.quality === false ? undefined : probeSample(catalog);
  const scoring: Scoring = {
    probe: probe && probe.items.length >= 2 ? probe : undefined,
    keepBest: probe !== undefined && probe.items.length >= 2 && run.startFile !== null,
    scored: new Map(runQuality(catalog.db, run.id).map((q) => [q.step, q])),
  };
  job?.progress({ phase: 'loading photos', done: 0, total: items.length });
  try {
    const record = recorder(catalog, run, scoring, opts, job);
    const data: TrainWorkerData = {
      config: run.config, items, stateFile: run.stateFile, modelFile: run.modelFile,
      resume: run.resumed,
      initFrom: run.initFrom,
      checkpointEveryMs: opts.checkpointEveryMs ?? DEFAULT_CHECKPOINT_EVERY_MS,
      maxSteps: opts.maxSteps,
      maxMs: opts.maxMinutes === undefined ? undefined : opts.maxMinutes * 60_000,
      ...(scoring.probe ? { probe: scoring.probe } : {}),
      ...(scoring.keepBest ? { keepBest: true, ...bestSoFar(scoring.scored), ...startScores(catalog, run.startFile!, scoring.probe) } : {}),
    };
    const r = await runTrainJob(backendPreference(catalog), data, job, record.onEvent, { killAfterMs: 120_000 });
    const backend = r.backend || record.backend();
    rememberStepTime(catalog, run.preset, run.config, record.stepMs, backend);
    const kept = await keptModel(catalog, run, scoring, r);
    const modelId = storeModel(catalog, run, r, kept);
    const q = kept.quality;
    const result: TrainResult = {
      model: modelId, run: run.id, preset: run.preset, epochs: run.config.epochs, steps: r.steps, totalSteps: r.totalSteps,
      finalLoss: r.finalLoss, stoppedEarly: r.stoppedEarly, seconds: (Date.now() - t0) / 1000, backend,
      quality: q ? { rankme: q.rankme, retrieval: q.retrieval, sample: q.sample, views: q.views, dim: q.dim } : null,
      note: kept.note,
      ...(kept.kept ? { kept: kept.kept } : {}),
    };
    if (opts.embed !== false) result.embedding = await embedCatalog(catalog, modelId, job);
    return result;
  } catch (e) {
    // a cancel reaches the worker as a message and comes back as its error: the job's signal says what it was
    const state = e instanceof CancelledError || (e as Error).name === 'AbortError' || job?.signal.aborted ? 'cancelled' : 'failed';
    if (getRun(catalog.db, run.id)) updateRun(catalog.db, run.id, { state, ended: true });
    throw e;
  }
}

/** The unfinished run, resumed; or a new one: its preset and config for this backend (and the pretrained weights it starts from). */
async function openRun(catalog: Catalog, opts: TrainOptions, job?: JobContext): Promise<Run> {
  const files = (id: number) => ({
    stateFile: join(catalog.paths.models, `run-${id}.state.safetensors`),
    modelFile: join(catalog.paths.models, `run-${id}-teacher.safetensors`),
  });
  if (opts.resume) {
    const previous = lastUnfinishedRun(catalog.db);
    if (!previous) throw new Error('There is no unfinished training run to resume in this catalog.');
    updateRun(catalog.db, previous.id, { state: 'running' });
    const config = JSON.parse(previous.config) as DinoConfig & { initFrom?: string | null };
    return { id: previous.id, preset: previous.preset, config, startFile: config.initFrom ?? null, resumed: true, ...files(previous.id) };
  }
  let initFrom: string | undefined;
  let pretrained: ViTArchInfo | undefined;
  if (opts.from) {
    job?.progress({ phase: 'loading pretrained weights' });
    initFrom = (await resolveWeights(opts.from, catalog.paths.models, { signal: job?.signal })).path;
    pretrained = (await readWeightsInWorker(initFrom, 'shapes', job)).arch;
  }
  const { preset, config, backend } = await resolveConfig(opts, pretrained, backendPreference(catalog));
  // the backend (and device) it runs on, so time estimates come from runs on the same device
  const id = createRun(catalog.db, preset, { ...config, initFrom: initFrom ?? null, backend });
  return { id, preset, config, startFile: initFrom ?? null, initFrom, resumed: false, ...files(id) };
}

/** Stores what the compute side reports as it comes (steps, scores, checkpoints) and passes it on to the job and the faces. */
function recorder(catalog: Catalog, run: Run, scoring: Scoring, opts: TrainOptions, job?: JobContext) {
  let backend = '';
  const stepMs: number[] = [];
  const onEvent = (e: TrainWorkerEvent): void => {
    if (e.type === 'backend') backend = e.description;
    else if (e.type === 'phase') job?.progress({ phase: e.phase, done: e.done, total: e.total });
    else if (e.type === 'checkpoint') updateRun(catalog.db, run.id, { checkpoint: run.stateFile });
    else if (e.type === 'quality') {
      putRunQuality(catalog.db, run.id, e.it, e.scores);
      const q: TrainQualityDTO = { runId: run.id, step: e.it, ...e.scores };
      scoring.scored.set(e.it, q);
      catalog.events.emit('train:quality', q);
      opts.onQuality?.(q);
    } else if (e.type === 'step') {
      const m = e.metrics;
      stepMs.push(m.msPerStep);
      const dto: TrainMetricDTO = {
        runId: run.id, epoch: m.epoch, step: m.step, totalSteps: m.totalSteps, loss: m.loss, lr: m.lr, momentum: m.momentum,
        teacherTemp: m.teacherTemp, teacherEntropy: m.teacherEntropy, klTeacherStudent: m.klTeacherStudent,
        imgPerSec: m.imgPerSec, dataWaitFraction: m.dataWaitFraction, etaSeconds: m.etaSeconds, collapse: m.collapse,
      };
      insertMetric(catalog.db, dto);
      catalog.events.emit('train:metric', dto);
      opts.onMetric?.(dto);
      job?.progress({ phase: `training epoch ${m.epoch + 1}`, done: m.step, total: m.totalSteps, counts: { epoch: m.epoch + 1 } });
    }
  };
  return { onEvent, stepMs, backend: () => backend };
}

interface Kept {
  /** fine-tuning: which model it kept */
  kept?: TrainResult['kept'];
  /** the weights it started from, when they scored best (their model, titled as the user knows it) */
  start: { id: number; title: string } | null;
  /** the step whose teacher is kept (the last, unless a fine-tune kept an earlier one) */
  it: number;
  quality: TrainQualityDTO | null;
  note: string | null;
}

/** Which model the run keeps, and what it says about that in a sentence for the user. */
async function keptModel(catalog: Catalog, run: Run, scoring: Scoring, r: ComputeResult): Promise<Kept> {
  const it = r.keptIt ?? r.steps;
  const quality = scoring.scored.get(it) ?? null;
  // nothing the run made scored better than the weights it started from: keep those
  const start = scoring.keepBest && it === 0 ? await startModel(catalog, run.startFile!) : null;
  if (start) {
    const note = r.diverged ? `fine-tuning diverged at step ${r.steps + 1}: kept ${start.title}` : `fine-tuning did not improve on the start: kept ${start.title}`;
    return { kept: 'start', start, it, quality, note };
  }
  if (!scoring.keepBest) return { start: null, it, quality, note: null };
  const kept = it < r.steps ? 'checkpoint' : 'end';
  const [from, to] = [scoring.scored.get(0), scoring.scored.get(it)];
  const gain = from && to ? ` (label-free ${PRIMARY_QUALITY} ${qualityScore(from).toFixed(3)} -> ${qualityScore(to).toFixed(3)})` : '';
  let note = kept === 'end' ? `fine-tuning improved on the start${gain}` : `kept the checkpoint at step ${it} of ${r.steps}${gain}: it scored better than the later ones`;
  if (r.diverged) note += `; training diverged at step ${r.steps + 1}`;
  return { kept, start: null, it, quality, note };
}

/** The kept model stored with its scores, the run ended, the model made the active one: in one transaction. */
function storeModel(catalog: Catalog, run: Run, r: ComputeResult, kept: Kept): number {
  const { config, preset } = run;
  const { student } = netConfigs(config);
  // one transaction: a crash between them must not leave a model whose run still says 'running'
  return catalog.db.transaction(() => {
    const id = kept.start ? kept.start.id : insertModel(catalog.db, {
      name: `DINO ${preset} (run ${run.id})`,
      arch: `${config.arch}/${config.patchSize}`,
      patch_size: config.patchSize,
      dim: student.vit.embedDim,
      source: 'trained',
      checkpoint: run.modelFile,
      config: JSON.stringify(config),
    });
    if (kept.quality) putModelQuality(catalog.db, id, kept.quality, { runId: run.id, step: kept.it });
    updateRun(catalog.db, run.id, {
      state: r.stoppedEarly && !r.diverged ? 'stopped' : 'done', modelId: id, ended: true, checkpoint: run.stateFile, ...(kept.note ? { note: kept.note } : {}),
    });
    setActiveModel(catalog, id);
    return id;
  })();
}

/** The best-scoring checkpoint of a resumed fine-tune so far (its teacher is in the model file unless it is the start). */
function bestSoFar(scored: Map<number, TrainQualityDTO>): { best?: { it: number; score: number } } {
  let best: { it: number; score: number } | undefined;
  for (const q of [...scored.values()].sort((a, b) => a.step - b.step)) {
    if (!best || qualityScore(q) > best.score) best = { it: q.step, score: qualityScore(q) };
  }
  return best ? { best } : {};
}

/** Config fields that set what a training step costs: a run that changed none of them times its preset. */
const COST_FIELDS = [
  'arch', 'patchSize', 'depth', 'embedDim', 'globalSize', 'localSize', 'nLocal', 'outDim', 'hiddenDim', 'bottleneckDim', 'nlayers', 'batchSize', 'accumSteps', 'freezeBlocks',
] as const satisfies readonly (keyof DinoConfig)[];

/**
 * A real run's step time (median of its later half: the first steps warm up) becomes its preset's
 * time on this backend, so the outcome estimates follow what training here actually takes.
 */
function rememberStepTime(catalog: Catalog, preset: string, config: DinoConfig, stepMs: number[], backend: string): void {
  const base = getPreset(preset).config;
  if (stepMs.length < 10 || COST_FIELDS.some((k) => config[k] !== base[k])) return;
  const later = stepMs.slice(Math.floor(stepMs.length / 2)).sort((a, b) => a - b);
  putStepTiming(catalog.db, backend, preset, later[Math.floor(later.length / 2)]!);
}

/** The stored scores of the model a fine-tune starts from, when they were measured on this sample. */
function startScores(catalog: Catalog, file: string, probe: ProbeSample | undefined): { startScores?: LabelFreeScores } {
  const m = modelByCheckpoint(catalog.db, file);
  const q = m ? modelQuality(catalog.db, m.id) : null;
  if (!q || !probe || !measuredOn(q, probe)) return {};
  return { startScores: q };
}

/**
 * The model of the weights a fine-tune started from: the catalog's own when the file is one of its
 * models (official weights added before), else registered now; titled as the user knows it.
 */
async function startModel(catalog: Catalog, file: string): Promise<{ id: number; title: string }> {
  const official = findOfficial(basename(file));
  const title = (name: string) => (official ? officialTitle(official) : name);
  const existing = modelByCheckpoint(catalog.db, file);
  if (existing) return { id: existing.id, title: title(existing.name) };
  const added = await addModel(catalog, file);
  return { id: added.model, title: title(added.name) };
}
