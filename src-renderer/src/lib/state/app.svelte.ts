import type { DinoApi, FailureDTO, StatusDTO } from '../../../../src-shared/api';
import { errorMessage } from '../format';
import { JobsState } from './jobs.svelte';
import { LibraryState } from './library.svelte';

export type View = 'library' | 'failed' | 'training' | 'clusters' | 'map' | 'duplicates';

/** The app's top-level state: which view is open, the catalog's status, and the shared stores. */
export class AppState {
  view = $state<View>('library');
  status = $state<StatusDTO | null>(null);
  statusError = $state<string | null>(null);
  failures = $state<FailureDTO[] | null>(null);
  failuresError = $state<string | null>(null);
  /** a user-facing message from the last action that failed (import, dialog, ...) */
  actionError = $state<string | null>(null);
  starting = $state(false);
  readonly jobs: JobsState;
  readonly library: LibraryState;
  private refreshTimer: ReturnType<typeof setTimeout> | null = null;
  private lastRefresh = 0;

  constructor(readonly api: DinoApi) {
    this.jobs = new JobsState(api);
    this.library = new LibraryState(api);
  }

  /** Subscribes to push events and loads everything once; returns the unsubscribe function. */
  start(): () => void {
    const offs = [
      this.api.on('job:progress', (job) => {
        this.jobs.apply(job);
        if (job.kind === 'import' && job.state !== 'running' && job.state !== 'paused') this.refreshSoon(true);
      }),
      this.api.on('library:changed', () => this.refreshSoon()),
    ];
    void this.refreshAll();
    void this.jobs.load();
    return () => {
      for (const off of offs) off();
      if (this.refreshTimer) clearTimeout(this.refreshTimer);
    };
  }

  async refreshAll(): Promise<void> {
    await Promise.all([this.refreshStatus(), this.library.refresh(), this.loadFailures()]);
  }

  /** Imports report often; refresh at most twice a second, and at once when a job ends. */
  refreshSoon(now = false): void {
    if (this.refreshTimer) return;
    const wait = now ? 0 : Math.max(0, 500 - (Date.now() - this.lastRefresh));
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      this.lastRefresh = Date.now();
      void this.refreshAll();
    }, wait);
  }

  async refreshStatus(): Promise<void> {
    try {
      this.status = await this.api.invoke('app:status', {});
      this.statusError = null;
    } catch (e) {
      this.statusError = errorMessage(e);
    }
  }

  async loadFailures(): Promise<void> {
    try {
      this.failures = await this.api.invoke('library:failures', {});
      this.failuresError = null;
    } catch (e) {
      this.failuresError = errorMessage(e);
    }
  }

  async importFolders(folders: string[]): Promise<void> {
    this.actionError = null;
    this.starting = true;
    try {
      await this.api.invoke('library:import', { folders });
      await this.jobs.load();
    } catch (e) {
      this.actionError = errorMessage(e);
    } finally {
      this.starting = false;
    }
  }

  async importSamples(): Promise<void> {
    this.actionError = null;
    try {
      const samples = await this.api.invoke('library:samples', {});
      await this.importFolders([samples.path]);
    } catch (e) {
      this.actionError = `The sample photos are not available: ${errorMessage(e)}`;
    }
  }

  /** Electron only: the native folder dialog; null when the user cancels. */
  async pickFolder(): Promise<string | null> {
    this.actionError = null;
    try {
      return (await this.api.invoke('library:pickFolder', {})).path;
    } catch (e) {
      this.actionError = errorMessage(e);
      return null;
    }
  }
}
