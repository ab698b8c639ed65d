import type { DinoApi, PresetDTO, TrainMetricDTO, TrainRunDTO } from '../../../../src-shared/api';
import { errorMessage } from '../format';

/** Keeps the chart fluid on long runs: older points are thinned, never the latest. */
const MAX_POINTS = 4000;

/** Training presets, the current run's metrics (history + live train:metric events). */
export class TrainingState {
  presets = $state<PresetDTO[] | null>(null);
  presetsError = $state<string | null>(null);
  metrics = $state<TrainMetricDTO[]>([]);
  metricsError = $state<string | null>(null);
  startError = $state<string | null>(null);
  /** the run the charts show: its preset and what it changed */
  run = $state<TrainRunDTO | null>(null);
  private runRequested: number | null = null;
  starting = $state(false);
  readonly latest = $derived(this.metrics.at(-1) ?? null);

  constructor(private readonly api: DinoApi) {}

  async loadPresets(): Promise<void> {
    try {
      this.presets = await this.api.invoke('train:presets', {});
      this.presetsError = null;
    } catch (e) {
      this.presetsError = errorMessage(e);
    }
  }

  async loadMetrics(runId?: number): Promise<void> {
    try {
      this.metrics = await this.api.invoke('train:metrics', runId === undefined ? {} : { runId });
      this.metricsError = null;
      await this.loadRun(runId);
    } catch (e) {
      this.metricsError = errorMessage(e);
    }
  }

  async loadRun(runId?: number): Promise<void> {
    if (runId !== undefined) this.runRequested = runId;
    try {
      this.run = await this.api.invoke('train:run', runId === undefined ? {} : { runId });
    } catch {
      // the settings line is a detail next to the charts; a failed load leaves the last one
    }
  }

  apply(m: TrainMetricDTO): void {
    if (this.run?.id !== m.runId && this.runRequested !== m.runId) void this.loadRun(m.runId);
    const last = this.metrics.at(-1);
    // a new run starts a new curve
    if (last && last.runId !== m.runId) this.metrics = [];
    this.metrics.push(m);
    if (this.metrics.length > MAX_POINTS) this.metrics = this.metrics.filter((_, i) => i % 2 === 0 || i === this.metrics.length - 1);
  }

  async start(preset: string, epochs: number, overrides: Record<string, number> = {}): Promise<string | null> {
    this.starting = true;
    this.startError = null;
    try {
      const { jobId } = await this.api.invoke('train:start', { preset, epochs, ...(Object.keys(overrides).length ? { overrides } : {}) });
      this.metrics = [];
      return jobId;
    } catch (e) {
      this.startError = errorMessage(e);
      return null;
    } finally {
      this.starting = false;
    }
  }
}
