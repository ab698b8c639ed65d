import { join } from 'node:path';
import type { TrainMetricDTO } from '../../src-shared/api';
import { gpuMemoryBudget, sizedForGpu } from '../dino/gpu-memory';
import { defaultPresetName, getPreset, withOverrides, type DinoConfig } from '../dino/presets';
import { netConfigs } from '../dino/model';
import { insertModel } from '../db/repos/models';
import { setSetting } from '../db/repos/settings';
import { prepared } from '../db/repos/statements';
import { createRun, getRun, insertMetric, lastUnfinishedRun, updateRun } from '../db/repos/training';
import { probeBackend, type BackendPreference } from './backend-probe';
import type { Catalog } from './catalog';
import { embedCatalog, type EmbedResult } from './embedder';
import { CancelledError, type JobContext } from './jobs';
import { backendPreference, runTrainJob } from './compute-host';
import { loadDinoWeights } from '../dino/weights/load';
import type { ViTArchInfo } from '../dino/weights/inspect';
import { resolveWeights } from '../dino/weights/resolve';
import type { TrainWorkerData } from './workers/train-worker';

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
  onMetric?(m: TrainMetricDTO): void;
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
      pretrained = loadDinoWeights(initFrom, { shapesOnly: true }).arch;
    }
    let runsOn: string;
    ({ preset, config, backend: runsOn } = await resolveConfig(opts, pretrained, backendPreference(catalog.db)));
    // the backend (and device) it runs on, so time estimates come from runs on the same device
    runId = createRun(catalog.db, preset, { ...config, initFrom: initFrom ?? null, backend: runsOn });
  }
  const items = okImages(catalog);
  if (items.length === 0) throw new Error('The catalog has no photos: import a folder first.');
  const stateFile = join(catalog.paths.models, `run-${runId}.state.safetensors`);
  const modelFile = join(catalog.paths.models, `run-${runId}-teacher.safetensors`);
  let backend = '';
  job?.progress({ phase: 'loading photos', done: 0, total: items.length });
  try {
    const data: TrainWorkerData = {
      config, items, stateFile, modelFile,
      resume: Boolean(previous),
      initFrom,
      checkpointEveryMs: opts.checkpointEveryMs ?? 5 * 60_000,
      maxSteps: opts.maxSteps,
      maxMs: opts.maxMinutes === undefined ? undefined : opts.maxMinutes * 60_000,
    };
    const r = await runTrainJob(
      backendPreference(catalog.db),
      data,
      job,
      (e) => {
        if (e.type === 'backend') backend = e.description;
        else if (e.type === 'phase') job?.progress({ phase: e.phase, done: e.done, total: e.total });
        else if (e.type === 'checkpoint') updateRun(catalog.db, runId, { checkpoint: stateFile });
        else if (e.type === 'step') {
          const m = e.metrics;
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
    const { student } = netConfigs(config);
    const modelId = insertModel(catalog.db, {
      name: `DINO ${preset} (run ${runId})`,
      arch: `${config.arch}/${config.patchSize}`,
      patch_size: config.patchSize,
      dim: student.vit.embedDim,
      source: 'trained',
      checkpoint: modelFile,
      config: JSON.stringify(config),
    });
    updateRun(catalog.db, runId, { state: r.stoppedEarly ? 'stopped' : 'done', modelId, ended: true, checkpoint: stateFile });
    setSetting(catalog.db, 'activeModel', modelId);
    const result: TrainResult = {
      model: modelId, run: runId, preset, epochs: config.epochs, steps: r.steps, totalSteps: r.totalSteps,
      finalLoss: r.finalLoss, stoppedEarly: r.stoppedEarly, seconds: (Date.now() - t0) / 1000, backend: r.backend || backend,
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

export function startTraining(catalog: Catalog, opts: TrainOptions): { id: string; promise: Promise<TrainResult> } {
  return catalog.jobs.start('train', (ctx) => train(catalog, opts, ctx));
}
