import { basename, join } from 'node:path';
import type { TrainMetricDTO, TrainQualityDTO } from '../../src-shared/api';
import { PRIMARY_QUALITY, qualityScore } from '../../src-shared/quality';
import { gpuMemoryBudget, sizedForGpu } from '../dino/train/gpu-memory';
import { defaultPresetName, getPreset, withOverrides, type DinoConfig } from '../dino/train/presets';
import { netConfigs } from '../dino/train/net-configs';
import { insertModel, listModels } from '../db/repos/models';
import { modelQuality, putModelQuality, putRunQuality, runQuality } from '../db/repos/quality';
import { putStepTiming } from '../db/repos/step-timings';
import { setSetting } from '../db/repos/settings';
import { prepared } from '../db/repos/statements';
import { createRun, getRun, insertMetric, lastUnfinishedRun, updateRun } from '../db/repos/training';
import { probeBackend, type BackendPreference } from './backend-probe';
import type { Catalog } from './catalog';
import { embedCatalog, type EmbedResult } from './embedder';
import { CancelledError, type JobContext } from './jobs';
import { backendPreference, runTrainJob } from './compute-host';
import type { ViTArchInfo } from '../dino/weights/inspect';
import { officialTitle } from '../dino/weights/official-title';
import { findOfficial } from '../dino/weights/official';
import { resolveWeights } from '../dino/weights/resolve';
import type { LabelFreeScores } from './label-free';
import { stopCalibration } from './outcomes';
import { measuredOn, probeSample, type ProbeSample } from './quality';
import { readWeightsInWorker } from './weights-reader';
import { addModel } from './weights';
import type { TrainWorkerData } from './workers/train-worker';

/**
 * A resumable checkpoint at least this often (the first one this long after the start): a killed
 * run loses at most a minute. Writing cpu-patch8's state takes milliseconds; a ViT-S fine-tune's
 * (student, teacher, Adam moments: about 0.7 GB) a few seconds, not measured here.
 */
export const DEFAULT_CHECKPOINT_EVERY_MS = 60_000;

export interface TrainOptions {
  preset?: string;
  epochs?: number;
  /** any DinoConfig field by name */
  overrides?: Record<string, unknown>;
  resume?: boolean;
  /** fine-tune: start student and teacher from these weights (a file or an official name) */
  from?: string;
  /** embed the catalog with the new model when training ends (default true) */
  embed?: boolean;
  maxSteps?: number;
  maxMinutes?: number;
  checkpointEveryMs?: number;
  /** score the label-free quality at the start and every checkpoint (default true) */
  quality?: boolean;
  onMetric?(m: TrainMetricDTO): void;
  onQuality?(q: TrainQualityDTO): void;
}

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

export async function resolveConfig(
  opts: Pick<TrainOptions, 'preset' | 'epochs' | 'overrides'>,
  pretrained?: ViTArchInfo,
  preference: BackendPreference = 'auto',
): Promise<{ preset: string; config: DinoConfig; backend: string }> {
  const backend = await probeBackend(preference);
  const preset = opts.preset ?? (pretrained ? (backend.gpu ? 'finetune-gpu' : 'finetune-cpu') : defaultPresetName(backend.description));
  const p = getPreset(preset);
  const config = withOverrides(p.config, {
    ...(pretrained ? architectureOf(pretrained) : {}),
    ...opts.overrides,
    ...(opts.epochs !== undefined ? { epochs: opts.epochs } : {}),
  });
  // a GPU preset on a WebGPU adapter: as many micro-batches as its memory needs (unless set by hand)
  if (p.target === 'gpu' && backend.adapter && opts.overrides?.accumSteps === undefined) {
    return { preset, config: sizedForGpu(config, gpuMemoryBudget(backend.adapter.maxBufferSize, process.env)), backend: backend.description };
  }
  return { preset, config, backend: backend.description };
}

/** The config fields fine-tuning takes from the pretrained weights: the network must match them. */
function architectureOf(a: ViTArchInfo): Partial<DinoConfig> {
  if (a.arch === 'custom') {
    throw new Error(`Fine-tuning needs a ViT-Tiny, -Small or -Base (these weights are ${a.embedDim} wide and ${a.depth} deep); embed with them instead (models add).`);
  }
  return {
    arch: a.arch,
    patchSize: a.patchSize,
    depth: null,
    imgSize: a.imgSize,
    ...(a.head ? { outDim: a.head.outDim, hiddenDim: a.head.hiddenDim, bottleneckDim: a.head.bottleneckDim, nlayers: a.head.nlayers } : {}),
  };
}

// By path, not id: the importer's workers insert in whatever order decoding finishes, so ids differ
// between two imports of one folder, and a seeded run must see the same batches on both.
function okImages(catalog: Catalog): { id: number; path: string }[] {
  return prepared(catalog.db, "SELECT id, path FROM images WHERE status = 'ok' ORDER BY path, id").all() as { id: number; path: string }[];
}

export async function train(catalog: Catalog, opts: TrainOptions, job?: JobContext): Promise<TrainResult> {
  const t0 = Date.now();
  let runId: number;
  let preset: string;
  let config: DinoConfig;
  let initFrom: string | undefined;
  const previous = opts.resume ? lastUnfinishedRun(catalog.db) : undefined;
  if (opts.resume && !previous) throw new Error('There is no unfinished training run to resume in this catalog.');
  if (previous) {
    runId = previous.id;
    preset = previous.preset;
    config = JSON.parse(previous.config) as DinoConfig;
    updateRun(catalog.db, runId, { state: 'running' });
  } else {
    let pretrained: ViTArchInfo | undefined;
    if (opts.from) {
      job?.progress({ phase: 'loading pretrained weights' });
      initFrom = (await resolveWeights(opts.from, catalog.paths.models, { signal: job?.signal })).path;
      pretrained = (await readWeightsInWorker(initFrom, 'shapes', job)).arch;
    }
    let runsOn: string;
    ({ preset, config, backend: runsOn } = await resolveConfig(opts, pretrained, backendPreference(catalog.db)));
    // the backend (and device) it runs on, so time estimates come from runs on the same device
    runId = createRun(catalog.db, preset, { ...config, initFrom: initFrom ?? null, backend: runsOn });
  }
  const items = okImages(catalog);
  if (items.length === 0) throw new Error('The catalog has no photos: import a folder first.');
  // fine-tuning keeps the better of its start and its checkpoints, by the label-free score
  const startFile = (config as DinoConfig & { initFrom?: string | null }).initFrom ?? initFrom;
  const probe = opts.quality === false ? undefined : probeSample(catalog);
  const scoring = probe !== undefined && probe.items.length >= 2;
  const keepBest = scoring && startFile !== undefined && startFile !== null;
  const scored = new Map(runQuality(catalog.db, runId).map((q) => [q.step, q]));
  const stepMs: number[] = [];
  const stateFile = join(catalog.paths.models, `run-${runId}.state.safetensors`);
  const modelFile = join(catalog.paths.models, `run-${runId}-teacher.safetensors`);
  let backend = '';
  job?.progress({ phase: 'loading photos', done: 0, total: items.length });
  try {
    const data: TrainWorkerData = {
      config, items, stateFile, modelFile,
      resume: Boolean(previous),
      initFrom,
      checkpointEveryMs: opts.checkpointEveryMs ?? DEFAULT_CHECKPOINT_EVERY_MS,
      maxSteps: opts.maxSteps,
      maxMs: opts.maxMinutes === undefined ? undefined : opts.maxMinutes * 60_000,
      ...(scoring ? { probe } : {}),
      ...(keepBest ? { keepBest, ...bestSoFar(scored), ...startScores(catalog, startFile, probe) } : {}),
    };
    const r = await runTrainJob(
      backendPreference(catalog.db),
      data,
      job,
      (e) => {
        if (e.type === 'backend') backend = e.description;
        else if (e.type === 'phase') job?.progress({ phase: e.phase, done: e.done, total: e.total });
        else if (e.type === 'checkpoint') updateRun(catalog.db, runId, { checkpoint: stateFile });
        else if (e.type === 'quality') {
          putRunQuality(catalog.db, runId, e.it, e.scores);
          const q: TrainQualityDTO = { runId, step: e.it, ...e.scores };
          scored.set(e.it, q);
          catalog.events.emit('train:quality', q);
          opts.onQuality?.(q);
        }
        else if (e.type === 'step') {
          const m = e.metrics;
          stepMs.push(m.msPerStep);
          const dto: TrainMetricDTO = {
            runId, epoch: m.epoch, step: m.step, totalSteps: m.totalSteps, loss: m.loss, lr: m.lr, momentum: m.momentum,
            teacherTemp: m.teacherTemp, teacherEntropy: m.teacherEntropy, klTeacherStudent: m.klTeacherStudent,
            imgPerSec: m.imgPerSec, dataWaitFraction: m.dataWaitFraction, etaSeconds: m.etaSeconds, collapse: m.collapse,
          };
          insertMetric(catalog.db, dto);
          catalog.events.emit('train:metric', dto);
          opts.onMetric?.(dto);
          job?.progress({ phase: `training epoch ${m.epoch + 1}`, done: m.step, total: m.totalSteps, counts: { epoch: m.epoch + 1 } });
        }
      },
      { killAfterMs: 120_000 },
    );
    rememberStepTime(catalog, preset, config, stepMs, r.backend || backend);
    const keptIt = r.keptIt ?? r.steps;
    let note: string | null = null;
    let kept: TrainResult['kept'];
    // nothing the run made scored better than the weights it started from: keep those
    const start = keepBest && keptIt === 0 ? await startModel(catalog, startFile) : null;
    if (start) {
      kept = 'start';
      note = r.diverged
        ? `fine-tuning diverged at step ${r.steps + 1}: kept ${start.title}`
        : `fine-tuning did not improve on the start: kept ${start.title}`;
    } else if (keepBest) {
      kept = keptIt < r.steps ? 'checkpoint' : 'end';
      const [from, to] = [scored.get(0), scored.get(keptIt)];
      const gain = from && to ? ` (label-free ${PRIMARY_QUALITY} ${qualityScore(from).toFixed(3)} -> ${qualityScore(to).toFixed(3)})` : '';
      note = kept === 'end' ? `fine-tuning improved on the start${gain}` : `kept the checkpoint at step ${keptIt} of ${r.steps}${gain}: it scored better than the later ones`;
      if (r.diverged) note += `; training diverged at step ${r.steps + 1}`;
    }
    const quality = scored.get(keptIt) ?? null;
    const { student } = netConfigs(config);
    // one transaction: a crash between them must not leave a model whose run still says 'running'
    const modelId = catalog.db.transaction(() => {
      const id = start ? start.id : insertModel(catalog.db, {
        name: `DINO ${preset} (run ${runId})`,
        arch: `${config.arch}/${config.patchSize}`,
        patch_size: config.patchSize,
        dim: student.vit.embedDim,
        source: 'trained',
        checkpoint: modelFile,
        config: JSON.stringify(config),
      });
      if (quality) putModelQuality(catalog.db, id, quality, { runId, step: keptIt });
      updateRun(catalog.db, runId, { state: r.stoppedEarly && !r.diverged ? 'stopped' : 'done', modelId: id, ended: true, checkpoint: stateFile, ...(note ? { note } : {}) });
      setSetting(catalog.db, 'activeModel', id);
      return id;
    })();
    const result: TrainResult = {
      model: modelId, run: runId, preset, epochs: config.epochs, steps: r.steps, totalSteps: r.totalSteps,
      finalLoss: r.finalLoss, stoppedEarly: r.stoppedEarly, seconds: (Date.now() - t0) / 1000, backend: r.backend || backend,
      quality: quality ? { rankme: quality.rankme, retrieval: quality.retrieval, sample: quality.sample, views: quality.views, dim: quality.dim } : null,
      note,
      ...(kept ? { kept } : {}),
    };
    if (opts.embed !== false) result.embedding = await embedCatalog(catalog, modelId, job);
    return result;
  } catch (e) {
    // a cancel reaches the worker as a message and comes back as its error: the job's signal says what it was
    const state = e instanceof CancelledError || (e as Error).name === 'AbortError' || job?.signal.aborted ? 'cancelled' : 'failed';
    if (getRun(catalog.db, runId)) updateRun(catalog.db, runId, { state, ended: true });
    throw e;
  }
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
  const m = listModels(catalog.db).find((x) => x.checkpoint === file);
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
  const existing = listModels(catalog.db).find((m) => m.checkpoint === file);
  if (existing) return { id: existing.id, title: title(existing.name) };
  const added = await addModel(catalog, file);
  return { id: added.model, title: title(added.name) };
}

export function startTraining(catalog: Catalog, opts: TrainOptions): { id: string; promise: Promise<TrainResult> } {
  stopCalibration(catalog);
  return catalog.jobs.start('train', (ctx) => train(catalog, opts, ctx));
}
