import { appStatus } from '../services/catalog/app-status';
import { readSettings, saveSettings, SETTING_RANGES } from '../services/catalog/app-settings';
import { startImport } from '../services/jobs/start-jobs';
import { imageOf, imagePage, importFailures } from '../services/photos/photo-pages';
import { sampleInfo } from '../services/photos/sample-photos';
import type { ApiModule } from './table';
import { noArgs, v } from './validate';

const checkSettings = v.object({
  backend: v.optional(v.literal(...SETTING_RANGES.backend)),
  thumbSize: v.optional(v.int(SETTING_RANGES.thumbSize)),
  defaultK: v.optional(v.int(SETTING_RANGES.defaultK)),
});

export const libraryApi: ApiModule = (catalog, face) => ({
  'app:status': { check: noArgs, handle: () => appStatus(catalog) },
  'app:settings': { check: noArgs, handle: () => readSettings(catalog) },
  'app:setSettings': { check: checkSettings, handle: (args) => saveSettings(catalog, args) },
  'library:samples': { check: noArgs, handle: () => sampleInfo() },
  'library:pickFolder': {
    check: noArgs,
    handle: async () => ({ path: face.pickFolder ? await face.pickFolder() : null }),
  },
  'library:import': {
    check: v.object({ folders: v.array(v.string({ min: 1, max: 4096 }), { max: 100 }) }),
    handle: ({ folders }) => ({ jobId: startImport(catalog, folders).id }),
  },
  'library:images': {
    check: v.object({ offset: v.int({ min: 0 }), limit: v.int({ min: 1, max: 5000 }) }),
    handle: ({ offset, limit }) => imagePage(catalog, offset, limit),
  },
  'library:image': { check: v.object({ id: v.int({ min: 1 }) }), handle: ({ id }) => imageOf(catalog, id) },
  'library:failures': { check: noArgs, handle: () => importFailures(catalog) },
});
