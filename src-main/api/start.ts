import { OUTCOMES } from '../dino/train/outcomes';
import { officialReachable } from '../services/start-paths';
import { outcomeDTOs, startCalibration } from '../services/outcomes';
import type { ApiModule } from './table';
import { noArgs, v } from './validate';

/** First-run paths and training by outcome (the Training panel's first choice). */
export const startApi: ApiModule = (catalog) => ({
  'models:reachable': {
    check: v.object({ source: v.optional(v.string({ min: 1, max: 200 })) }),
    handle: ({ source }) => officialReachable(source),
  },
  'train:outcomes': { check: noArgs, handle: () => outcomeDTOs(catalog) },
  'train:calibrate': {
    check: v.object({ outcomes: v.array(v.literal(...OUTCOMES), { max: OUTCOMES.length }) }),
    handle: async ({ outcomes }) => ({ jobId: (await startCalibration(catalog, outcomes))?.id ?? null }),
  },
});
