import type { DinoApi, FailureDTO, JobDTO, NeighbourDTO, StatusDTO } from '../../../../src-shared/api';
import { errorMessage } from '../format';
import { ClustersState } from './clusters.svelte';
import { JobsState } from './jobs.svelte';
import { LibraryState } from './library.svelte';
import type { PhotoSource } from './photo-list.svelte';
import { SettingsState } from './settings.svelte';
import { StartState } from './start.svelte';
import { TrainingState } from './training.svelte';

export type View = 'library' | 'failed' | 'search' | 'training' | 'clusters' | 'map' | 'duplicates' | 'settings';

/** the photo viewer, wherever it was opened from: the list it steps through and where it is */
export interface ViewerState {
  source: PhotoSource;
  index: number;
  /** called with the index shown last when the viewer closes (the grid puts focus back there) */
  onClose?: (index: number) => void;
}

/** "Search with a photo…": the outside file and what it matched */
export interface ImageSearch {
  name: string;
  /** object URL of the outside photo, for its preview */
  preview: string;
  results: NeighbourDTO[] | null;
  error: string | null;
}

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
  viewer = $state<ViewerState | null>(null);
  search = $state<ImageSearch | null>(null);
  readonly jobs: JobsState;
  readonly library: LibraryState;
  readonly settings: SettingsState;
  readonly training: TrainingState;
  readonly clusters: ClustersState;
  readonly firstModel: StartState;
  readonly activeModel = $derived(this.status?.models.find((m) => m.id === this.status?.activeModel) ?? null);
  /** search, clusters, map and duplicates need photo embeddings from the active model */
  readonly hasEmbeddings = $derived((this.activeModel?.embedded ?? 0) > 0);
  private refreshTimer: ReturnType<typeof setTimeout> | null = null;
  private lastRefresh = 0;

  constructor(readonly api: DinoApi) {
    this.jobs = new JobsState(api);
    this.library = new LibraryState(api);
    this.settings = new SettingsState(api);
    this.training = new TrainingState(api);
    this.clusters = new ClustersState(api);
    this.firstModel = new StartState(api, this.jobs, this.training);
  }

  openViewer(source: PhotoSource, index: number, onClose?: (index: number) => void): void {
    this.viewer = { source, index, onClose };
  }

  closeViewer(): void {
    const v = this.viewer;
    this.viewer = null;
    v?.onClose?.(v.index);
  }

  /** A photo from outside the library: embed it with the active model and list its nearest photos. */
  async searchByFile(file: File): Promise<void> {
    if (this.search) URL.revokeObjectURL(this.search.preview);
    this.search = { name: file.name, preview: URL.createObjectURL(file), results: null, error: null };
    this.view = 'search';
    const current = this.search;
    try {
      const dataBase64 = await fileToBase64(file);
      const results = await this.api.invoke('search:byImage', { dataBase64, k: this.settings.current.defaultK });
      if (this.search === current) this.search = { ...current, results };
    } catch (e) {
      if (this.search === current) this.search = { ...current, error: errorMessage(e) };
    }
  }

  /** A job that ends changes what other views show: reload what it touched. */
  private onJobEnded(job: JobDTO): void {
    if (job.kind === 'import') this.refreshSoon(true);
    // the path chosen on the first-run screen begins once its photos are in
    if (job.kind === 'import' && job.state === 'done' && this.firstModel.pending) {
      const path = this.firstModel.pending;
      this.firstModel.pending = null;
      void this.firstModel.begin(path).then((ok) => {
        if (ok && path === 'scratch') this.view = 'training';
      });
    }
    if (job.kind === 'download') void this.firstModel.load();
    if (job.kind === 'train' || job.kind === 'embed' || job.kind === 'download') {
      void this.refreshStatus();
      void this.training.loadPresets();
      void this.training.loadRun();
    }
    if (job.kind === 'calibrate' || job.kind === 'import' || job.kind === 'train') void this.training.loadOutcomes();
    if (job.kind === 'cluster' || job.kind === 'train' || job.kind === 'embed') void this.clusters.load();
  }

  /** Subscribes to push events and loads everything once; returns the unsubscribe function. */
  start(): () => void {
    const offs = [
      this.api.on('job:progress', (job) => {
        const before = this.jobs.jobs.find((j) => j.id === job.id);
        this.jobs.apply(job);
        const ended = job.state !== 'running' && job.state !== 'paused';
        if (ended && before?.state !== job.state) this.onJobEnded(job);
      }),
      this.api.on('train:metric', (m) => this.training.apply(m)),
      this.api.on('train:quality', (q) => this.training.applyQuality(q)),
      this.api.on('library:changed', () => this.refreshSoon()),
    ];
    void this.refreshAll();
    void this.jobs.load();
    void this.settings.load();
    void this.training.loadPresets();
    void this.training.loadMetrics();
    void this.clusters.load();
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

async function fileToBase64(file: File): Promise<string> {
  const url = await new Promise<string>((ok, fail) => {
    const reader = new FileReader();
    reader.onload = () => ok(String(reader.result));
    reader.onerror = () => fail(new Error(`Could not read ${file.name}.`));
    reader.readAsDataURL(file);
  });
  // "data:image/jpeg;base64,...."
  return url.slice(url.indexOf(',') + 1);
}
