import type { PresetDTO } from '../../../src-shared/api';
import { meanImgPerSec } from '../../db/repos/training';
import { defaultPresetName, PRESETS, type DinoConfig } from '../../dino/train/presets';
import { probeBackend } from '../backends/backend-probe';
import type { Catalog } from '../catalog/catalog';
import { backendPreference } from '../catalog/app-settings';

// The training presets as the Training panel lists them, for this backend and this catalog's runs.

/** The preset names a run may ask for. */
export const PRESET_NAMES: readonly string[] = PRESETS.map((p) => p.name);

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

export async function presetDTOs(catalog: Catalog): Promise<PresetDTO[]> {
  const preference = backendPreference(catalog);
  // the config code loads the model code (tfjs): only when the presets are asked for, not at the app's start
  const [backend, { resolveConfig }] = await Promise.all([probeBackend(preference), import('./training-config')]);
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
