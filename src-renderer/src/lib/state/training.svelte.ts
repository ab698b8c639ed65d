import type { DinoApi, Outcome, OutcomeDTO, PresetDTO, TrainMetricDTO, TrainRunDTO } from '../../../../src-shared/api';
import type { TrainQualityDTO } from '../../../../src-shared/quality';
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
  /** the shown run's label-free quality at its start and checkpoints */
  quality = $state<TrainQualityDTO[]>([]);
  outcomes = $state<OutcomeDTO[] | null>(null);
  outcomesError = $state<string | null>(null);
  /** outcomes whose step time was asked to be measured this session (once each) */
  private calibrationAsked: Outcome[] = [];
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

  async loadOutcomes(): Promise<void> {
    try {
      this.outcomes = await this.api.invoke('train:outcomes', {});
      this.outcomesError = null;
    } catch (e) {
      this.outcomesError = errorMessage(e);
    }
  }

  /**
   * Starts the measurement of an outcome's step time when its estimate is missing (once a session;
   * the caller asks only while nothing else runs, which would skew it).
   */
  async calibrate(outcome: Outcome): Promise<void> {
    const o = this.outcomes?.find((x) => x.outcome === outcome);
    if (!o || o.secondsEstimate !== null || this.calibrationAsked.includes(outcome)) return;
    this.calibrationAsked.push(outcome);
    try {
      await this.api.invoke('train:calibrate', { outcomes: [outcome] });
    } catch {
      // the estimate stays "not measured yet"; training itself is unaffected
    }
  }

  async loadMetrics(runId?: number): Promise<void> {
    try {
      const args = runId === undefined ? {} : { runId };
      this.metrics = await this.api.invoke('train:metrics', args);
      this.quality = await this.api.invoke('train:quality', args);
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

  applyQuality(q: TrainQualityDTO): void {
    // a new run starts a new curve; a step scored again (a resumed run) replaces its point
    if (this.quality.some((x) => x.runId !== q.runId)) this.quality = [];
    this.quality = [...this.quality.filter((x) => x.step !== q.step), q].sort((a, b) => a.step - b.step);
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
    return this.startWith({ preset, epochs, ...(Object.keys(overrides).length ? { overrides } : {}) });
  }

  /** Trains for an outcome: the server picks the preset and epochs for this backend and collection. */
  async startOutcome(outcome: Outcome): Promise<string | null> {
    return this.startWith({ outcome });
  }

  private async startWith(args: { preset?: string; epochs?: number; overrides?: Record<string, number>; outcome?: Outcome }): Promise<string | null> {
    this.starting = true;
    this.startError = null;
    try {
      const { jobId } = await this.api.invoke('train:start', args);
      this.metrics = [];
      this.quality = [];
      return jobId;
    } catch (e) {
      this.startError = errorMessage(e);
      return null;
    } finally {
      this.starting = false;
    }
  }
}
