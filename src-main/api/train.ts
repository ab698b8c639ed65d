import { backendPreference } from '../services/catalog/app-settings';
import { startEmbed, startModelDownload, startTraining } from '../services/jobs/start-jobs';
import { modelDTOs } from '../services/models/model-list';
import { officialWeightsDTOs } from '../services/models/official-weights';
import { resolveModel, setActiveModel } from '../services/models/resolve-model';
import { OUTCOMES } from '../services/training/outcome-plans';
import { PRESET_NAMES, presetDTOs } from '../services/training/preset-list';
import { trainingMetrics, trainingQuality, trainingRun } from '../services/training/run-views';
import { withOutcome } from '../services/training/start-paths';
import type { ApiModule } from './table';
import { BadRequestError, noArgs, v } from './validate';

export const trainApi: ApiModule = (catalog) => ({
  'train:presets': { check: noArgs, handle: () => presetDTOs(catalog) },
  'train:start': {
    check: v.object({
      preset: v.optional(v.literal(...PRESET_NAMES)),
      epochs: v.optional(v.int({ min: 1, max: 10_000 })),
      from: v.optional(v.string({ min: 1, max: 4096 })),
      resume: v.optional(v.boolean()),
      overrides: v.optional(v.record(v.number(), { max: 64 })),
      outcome: v.optional(v.literal(...OUTCOMES)),
    }),
    handle: async ({ outcome, ...args }) => {
      // an outcome names a preset, a step budget and (fine-tuning) a start; explicit arguments win
      const opts = outcome ? await withOutcome(catalog, outcome, args) : args;
      // unknown or out-of-range hyperparameters are a bad request the face shows next to the form,
      // not a failed job a moment later (the check loads the training code, as the job would)
      const { checkTrainOptions } = await import('../services/training/training-config');
      await checkTrainOptions(opts, backendPreference(catalog)).catch((e: unknown) => {
        throw new BadRequestError(e instanceof Error ? e.message : String(e));
      });
      return { jobId: startTraining(catalog, opts).id };
    },
  },
  'train:metrics': { check: v.object({ runId: v.optional(v.int({ min: 1 })) }), handle: ({ runId }) => trainingMetrics(catalog, runId) },
  'train:quality': { check: v.object({ runId: v.optional(v.int({ min: 1 })) }), handle: ({ runId }) => trainingQuality(catalog, runId) },
  'train:run': { check: v.object({ runId: v.optional(v.int({ min: 1 })) }), handle: ({ runId }) => trainingRun(catalog, runId) },
  'embed:start': {
    check: v.object({ modelId: v.optional(v.int({ min: 1 })) }),
    handle: ({ modelId }) => ({ jobId: startEmbed(catalog, resolveModel(catalog, modelId, 'weights').id).id }),
  },
  'models:list': { check: noArgs, handle: () => modelDTOs(catalog) },
  'models:setActive': {
    check: v.object({ id: v.int({ min: 1 }) }),
    handle: ({ id }) => {
      setActiveModel(catalog, id);
      return { ok: true };
    },
  },
  'models:official': { check: noArgs, handle: () => officialWeightsDTOs(catalog) },
  'models:add': {
    check: v.object({ source: v.string({ min: 1, max: 4096 }), finetune: v.optional(v.boolean()) }),
    // "then fine-tune on my photos": the next job starts from the weights just added
    handle: ({ source, finetune }) => ({ jobId: startModelDownload(catalog, source, finetune ? 'finetune' : 'embed').id }),
  },
});
