import type { SettingsDTO } from '../../src-shared/api';
import { backendOptions, probeBackend } from '../services/backends/backend-probe';
import { backendPreference } from '../services/threads/compute-host';
import { modelDTOs } from '../services/models/model-list';
import { activeModelId } from '../services/models/resolve-model';
import type { Db } from '../db/open';
import { countByStatus, getImage, listFailures, listImages, toImageDTO } from '../db/repos/images';
import { getAllSettings, setSettings } from '../db/repos/settings';
import { startImport } from '../services/photos/import-photos';
import { appVersion } from '../services/catalog/app-files';
import { sampleInfo } from '../services/photos/sample-photos';
import type { ApiModule } from './table';
import { noArgs, v } from './validate';

export const DEFAULT_SETTINGS: Readonly<SettingsDTO> = { backend: 'auto', thumbSize: 200, defaultK: 20 };

const settingsShape = {
  backend: v.optional(v.literal('auto', 'gpu', 'cpu')),
  thumbSize: v.optional(v.int({ min: 64, max: 512 })),
  defaultK: v.optional(v.int({ min: 2, max: 1000 })),
};
const checkSettings = v.object(settingsShape);

/** Stored settings over the defaults; a stored value that no longer validates falls back to its default. */
export function readSettings(db: Db): SettingsDTO {
  const stored = getAllSettings(db);
  const out: SettingsDTO = { ...DEFAULT_SETTINGS };
  for (const key of Object.keys(settingsShape) as (keyof SettingsDTO)[]) {
    try {
      const value = settingsShape[key](stored[key], key);
      if (value !== undefined) (out as unknown as Record<string, unknown>)[key] = value;
    } catch {
      // keep the default
    }
  }
  return out;
}

const version = appVersion();

export const libraryApi: ApiModule = (catalog, face) => ({
  'app:status': {
    check: noArgs,
    handle: async () => {
      const counts = countByStatus(catalog.db);
      const [backend, options] = await Promise.all([probeBackend(backendPreference(catalog.db)), backendOptions()]);
      const models = modelDTOs(catalog);
      return {
        catalog: catalog.paths.root,
        images: counts.ok,
        failed: counts.failed,
        gone: counts.gone,
        models,
        activeModel: activeModelId(catalog),
        backend: backend.description,
        backendFallbacks: backend.fallbacks,
        backendHint: backend.hint ?? null,
        backendOptions: options,
        version,
      };
    },
  },
  'app:settings': { check: noArgs, handle: () => readSettings(catalog.db) },
  'app:setSettings': {
    check: checkSettings,
    handle: (args) => {
      setSettings(catalog.db, args);
      return readSettings(catalog.db);
    },
  },
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
    handle: ({ offset, limit }) => {
      const { items, total } = listImages(catalog.db, offset, limit);
      return { items: items.map(toImageDTO), total, offset };
    },
  },
  'library:image': {
    check: v.object({ id: v.int({ min: 1 }) }),
    handle: ({ id }) => {
      const row = getImage(catalog.db, id);
      if (!row) throw new Error(`No photo with id ${id}`);
      return toImageDTO(row);
    },
  },
  'library:failures': { check: noArgs, handle: () => listFailures(catalog.db) },
});
