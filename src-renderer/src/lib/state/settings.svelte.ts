import type { DinoApi, SettingsDTO } from '../../../../src-shared/api';
import { errorMessage } from '../format';

export const FALLBACK_SETTINGS: SettingsDTO = { backend: 'auto', thumbSize: 200, defaultK: 20 };

/** The catalog's settings (app:settings), saved one field at a time. */
export class SettingsState {
  value = $state<SettingsDTO | null>(null);
  error = $state<string | null>(null);
  saving = $state(false);
  readonly current = $derived(this.value ?? FALLBACK_SETTINGS);

  constructor(private readonly api: DinoApi) {}

  async load(): Promise<void> {
    try {
      this.value = await this.api.invoke('app:settings', {});
      this.error = null;
    } catch (e) {
      this.error = `Could not read the settings: ${errorMessage(e)}`;
    }
  }

  async save(patch: Partial<SettingsDTO>): Promise<boolean> {
    this.saving = true;
    try {
      this.value = await this.api.invoke('app:setSettings', patch);
      this.error = null;
      return true;
    } catch (e) {
      this.error = `Could not save: ${errorMessage(e)}`;
      return false;
    } finally {
      this.saving = false;
    }
  }
}
