import type { PresetDTO, TrainRunDTO } from '../../src-shared/api';
import { defaultPresetName, PRESETS, type DinoConfig } from '../dino/train/presets';
import { probeBackend } from '../services/backend-probe';
import { backendPreference } from '../services/compute-host';
import { getImage } from '../db/repos/images';
import { getModel } from '../db/repos/models';
import { setSetting } from '../db/repos/settings';
import { getRun, lastRun, listMetrics, meanImgPerSec, type RunRow } from '../db/repos/training';
import { runQuality } from '../db/repos/quality';
import { ensureModelQuality } from '../services/quality';
import type { Catalog } from '../services/catalog';
import { attentionOf, embedCatalog, embedOutsideBytes, startEmbed } from '../services/embedder';
import { OFFICIAL_CHECKPOINTS } from '../dino/weights/official';
import { officialTitle } from '../dino/weights/official-title';
import { OUTCOMES } from '../dino/train/outcomes';
import { officialFileState, withOutcome } from '../services/start-paths';
import { stopCalibration } from '../services/outcomes';
import { modelDTOs, resolveModelId } from '../services/models';
import { searchByVector } from '../services/search';
import type { TrainOptions } from '../services/trainer';
import type { ApiModule } from './table';
import { BadRequestError, noArgs, v } from './validate';

// Training and weights import reach the model code (and tfjs): loaded when such a job starts, so
// the first screen (and the app's start) never waits for them.
const trainerService = () => import('../services/trainer');
const weightsService = () => import('../services/weights');

/** Seconds per epoch per 1000 photos, from this catalog's own runs of the preset on this backend and device. */
function measuredSpeed(catalog: Catalog, preset: string, backend: string): number | null {
  const ips = meanImgPerSec(catalog.db, preset, backend);
  return ips ? 1000 / ips : null;
}

/** "vit_tiny/16", with the preset's own depth or width when it overrides the architecture's */
function archLabel(c: DinoConfig): string {
  const custom = [c.embedDim ? `width ${c.embedDim}` : '', c.depth ? `${c.depth} blocks` : ''].filter(Boolean).join(', ');
  return `${c.arch}/${c.patchSize}${custom ? ` (${custom})` : ''}`;
}

async function presetDTOs(catalog: Catalog): Promise<PresetDTO[]> {
  const preference = backendPreference(catalog.db);
  const [backend, { resolveConfig }] = await Promise.all([probeBackend(preference), trainerService()]);
  const byDefault = defaultPresetName(backend.description);
  return Promise.all(
    PRESETS.map(async (p) => {
      // as a run would get it: a GPU preset sized to the adapter's memory
      const { config } = await resolveConfig({ preset: p.name }, undefined, preference);
      return {
        name: p.name,
        description: p.description,
        arch: archLabel(config),
        secondsPerEpochPer1000: measuredSpeed(catalog, p.name, backend.description),
        isDefault: p.name === byDefault,
        config: Object.fromEntries(Object.entries(config).filter(([, x]) => x !== null)) as PresetDTO['config'],
      };
    }),
  );
}

function runDTO(r: RunRow): TrainRunDTO {
  const config = JSON.parse(r.config) as Record<string, number | string | boolean | null>;
  const base = PRESETS.find((p) => p.name === r.preset)?.config as unknown as Record<string, unknown> | undefined;
  // fields the preset lacks (initFrom: the weights a fine-tune started from) count when set; the
  // backend it ran on is no setting
  const changed = Object.fromEntries(Object.entries(config).filter(([k, x]) => k !== 'backend' && (!base || (k in base ? base[k] !== x : x !== null))));
  return { id: r.id, preset: r.preset, state: r.state, changed, startedAt: r.started_at, endedAt: r.ended_at, modelId: r.model_id, note: r.note };
}


/**
 * Refuses unknown or out-of-range hyperparameters now, as a bad request the face can show next to
 * the form, rather than as a failed job a moment later. With `from`, the network's shape comes from
 * the weights, so only names and types can be checked here.
 */
async function checkTrainArgs(args: Pick<TrainOptions, 'preset' | 'epochs' | 'overrides' | 'from'>, catalog: Catalog): Promise<void> {
  const [{ resolveConfig }, { normalizeConfig }] = await Promise.all([trainerService(), import('../dino/train/trainer')]);
  try {
    const { config } = await resolveConfig(args, undefined, backendPreference(catalog.db));
    if (!args.from) normalizeConfig(config);
  } catch (e) {
    throw new BadRequestError(e instanceof Error ? e.message : String(e));
  }
}

export const trainApi: ApiModule = (catalog) => ({
  'train:presets': { check: noArgs, handle: () => presetDTOs(catalog) },
  'train:start': {
    check: v.object({
      preset: v.optional(v.literal(...PRESETS.map((p) => p.name))),
      epochs: v.optional(v.int({ min: 1, max: 10_000 })),
      from: v.optional(v.string({ min: 1, max: 4096 })),
      resume: v.optional(v.boolean()),
      overrides: v.optional(v.record(v.number(), { max: 64 })),
      outcome: v.optional(v.literal(...OUTCOMES)),
    }),
    handle: async ({ outcome, ...args }) => {
      // an outcome names a preset, a step budget and (fine-tuning) a start; explicit arguments win
      const opts = outcome ? await withOutcome(catalog, outcome, args) : args;
      await checkTrainArgs(opts, catalog);
      const { startTraining } = await trainerService();
      return { jobId: startTraining(catalog, opts).id };
    },
  },
  'train:metrics': {
    check: v.object({ runId: v.optional(v.int({ min: 1 })) }),
    handle: ({ runId }) => {
      const id = runId ?? lastRun(catalog.db)?.id;
      return id === undefined ? [] : listMetrics(catalog.db, id);
    },
  },
  'train:quality': {
    check: v.object({ runId: v.optional(v.int({ min: 1 })) }),
    handle: ({ runId }) => {
      const id = runId ?? lastRun(catalog.db)?.id;
      return id === undefined ? [] : runQuality(catalog.db, id);
    },
  },
  'train:run': {
    check: v.object({ runId: v.optional(v.int({ min: 1 })) }),
    handle: ({ runId }) => {
      const r = runId === undefined ? lastRun(catalog.db) : getRun(catalog.db, runId);
      return r ? runDTO(r) : null;
    },
  },
  'embed:start': {
    check: v.object({ modelId: v.optional(v.int({ min: 1 })) }),
    handle: ({ modelId }) => ({ jobId: startEmbed(catalog, resolveModelId(catalog, modelId)).id }),
  },
  'models:list': { check: noArgs, handle: () => modelDTOs(catalog) },
  'models:setActive': {
    check: v.object({ id: v.int({ min: 1 }) }),
    handle: ({ id }) => {
      if (!getModel(catalog.db, id)) throw new Error(`There is no model ${id}.`);
      setSetting(catalog.db, 'activeModel', id);
      return { ok: true };
    },
  },
  'models:official': {
    check: noArgs,
    handle: () =>
      OFFICIAL_CHECKPOINTS.map((c) => ({
        name: c.name,
        title: officialTitle(c),
        arch: `${c.arch}/${c.patchSize}`,
        description: `${c.kind === 'backbone' ? 'backbone' : 'full checkpoint (student, teacher, head: best for fine-tuning)'}; ImageNet k-NN ${c.knn} %`,
        ...officialFileState(catalog.paths.models, c),
      })),
  },
  'models:add': {
    check: v.object({ source: v.string({ min: 1, max: 4096 }), finetune: v.optional(v.boolean()) }),
    handle: ({ source, finetune }) => {
      stopCalibration(catalog);
      return { jobId: catalog.jobs.start('download', async (job) => {
        const [{ addModel }, { startTraining }] = await Promise.all([weightsService(), trainerService()]);
        const added = await addModel(catalog, source, job);
        const embedded = await embedCatalog(catalog, added.model, job);
        const quality = await ensureModelQuality(catalog, added.model, job);
        // "then fine-tune on my photos": the next job starts from the weights just added
        const trainJobId = finetune ? startTraining(catalog, await withOutcome(catalog, 'finetune', { from: added.file })).id : undefined;
        return { ...added, embedded: embedded.embedded, quality, ...(trainJobId ? { trainJobId } : {}) };
      }).id };
    },
  },
  'search:byImage': {
    check: v.object({ dataBase64: v.string({ min: 1, max: 70_000_000 }), k: v.optional(v.int({ min: 1, max: 1000 })) }),
    handle: async ({ dataBase64, k }) => {
      const modelId = resolveModelId(catalog);
      const vector = await embedOutsideBytes(catalog, modelId, Buffer.from(dataBase64, 'base64'));
      return searchByVector(catalog, vector, { k, modelId });
    },
  },
  'search:attention': {
    check: v.object({ id: v.int({ min: 1 }) }),
    handle: async ({ id }) => {
      const img = getImage(catalog.db, id);
      if (!img || img.status !== 'ok') throw new Error(`There is no photo ${id}.`);
      const a = await attentionOf(catalog, resolveModelId(catalog), id, img.path);
      return { heads: a.heads.length, grid: [a.grid, a.grid], maps: a.heads };
    },
  },
});
