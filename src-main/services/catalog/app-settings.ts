import type { SettingsDTO } from '../../../src-shared/api';
import { getAllSettings, setSettings } from '../../db/repos/settings';
import type { BackendPreference } from '../backends/backend-probe';
import type { Catalog } from './catalog';

// The user's settings (the Settings panel), each with its default and the values it may take: the API
// checks what a face sends against these ranges, and what the catalog holds is read back through them
// (a hand-edited or older catalog never hands a face a value out of range).

const DEFAULT_SETTINGS: Readonly<SettingsDTO> = { backend: 'auto', thumbSize: 200, defaultK: 20 };

/** The values each setting may take. */
export const SETTING_RANGES = {
  backend: ['auto', 'gpu', 'cpu'],
  thumbSize: { min: 64, max: 512 },
  defaultK: { min: 2, max: 1000 },
} as const satisfies { [K in keyof SettingsDTO]: readonly SettingsDTO[K][] | { min: number; max: number } };

const inRange = (x: unknown, r: { min: number; max: number }): x is number => Number.isSafeInteger(x) && (x as number) >= r.min && (x as number) <= r.max;

const VALID: { [K in keyof SettingsDTO]: (x: unknown) => x is SettingsDTO[K] } = {
  backend: (x): x is SettingsDTO['backend'] => (SETTING_RANGES.backend as readonly unknown[]).includes(x),
  thumbSize: (x): x is number => inRange(x, SETTING_RANGES.thumbSize),
  defaultK: (x): x is number => inRange(x, SETTING_RANGES.defaultK),
};

/** Stored settings over the defaults; a stored value that is no longer valid falls back to its default. */
export function readSettings(catalog: Catalog): SettingsDTO {
  const stored = getAllSettings(catalog.db);
  const out: SettingsDTO = { ...DEFAULT_SETTINGS };
  for (const key of Object.keys(VALID) as (keyof SettingsDTO)[]) {
    const value = stored[key];
    if (VALID[key](value)) (out as unknown as Record<string, unknown>)[key] = value;
  }
  return out;
}

/** Stores the settings given (each checked against its range; the API has checked them already) and returns them all. */
export function saveSettings(catalog: Catalog, values: Partial<SettingsDTO>): SettingsDTO {
  for (const [key, value] of Object.entries(values) as [keyof SettingsDTO, unknown][]) {
    if (!(key in VALID) || !VALID[key](value)) throw new Error(`setting ${key} cannot be ${JSON.stringify(value)}`);
  }
  setSettings(catalog.db, values);
  return readSettings(catalog);
}

/** The Settings choice of where training and embedding compute. */
export function backendPreference(catalog: Catalog): BackendPreference {
  return readSettings(catalog).backend;
}
