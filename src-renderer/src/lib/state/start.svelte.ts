import type { DinoApi, OfficialWeightsDTO, ReachableDTO } from '../../../../src-shared/api';
import { errorMessage } from '../format';
import type { JobsState } from './jobs.svelte';
import type { TrainingState } from './training.svelte';

/** The three ways to a first model (first run, the Library's next step). */
export type StartPath = 'official' | 'official+finetune' | 'scratch';

/** the official weights the app recommends (services/models/official-weights.ts) */
const RECOMMENDED = 'dino_vits16';

/**
 * A first model: official DINO ViT-S/16 (downloaded with a progress bar, resumed after an interruption),
 * optionally fine-tuned on the user's photos, or a model trained from scratch offline. Whether the
 * download answers is asked at once, so an offline machine is offered the offline path before it waits.
 */
export class StartState {
  official = $state<OfficialWeightsDTO | null>(null);
  reach = $state<ReachableDTO | null>(null);
  checking = $state(false);
  error = $state<string | null>(null);
  busy = $state(false);
  /** chosen on the first-run screen, begun when the import ends */
  pending = $state<StartPath | null>(null);
  private asked = false;
  private userChose = false;

  constructor(
    private readonly api: DinoApi,
    private readonly jobs: JobsState,
    private readonly training: TrainingState,
  ) {}

  /** The recommended weights' state and (once) whether their host answers. */
  async load(): Promise<void> {
    try {
      const list = await this.api.invoke('models:official', {});
      this.official = list.find((w) => w.name === RECOMMENDED) ?? null;
    } catch (e) {
      this.error = errorMessage(e);
    }
    if (!this.asked && !this.official?.downloaded) {
      this.asked = true;
      await this.check();
    }
  }

  async check(): Promise<ReachableDTO | null> {
    this.checking = true;
    try {
      this.reach = await this.api.invoke('models:reachable', { source: RECOMMENDED });
      // the first-run choice: the official weights when they can be downloaded (until the user picks);
      // offline, nothing starts by itself, and a path that cannot start is never kept
      if (this.reach.reachable && !this.userChose) this.pending = 'official';
      if (!this.reach.reachable && this.pending !== null && this.pending !== 'scratch') this.pending = null;
      return this.reach;
    } catch (e) {
      this.error = errorMessage(e);
      return null;
    } finally {
      this.checking = false;
    }
  }

  /** The first-run choice, begun when the import ends (null: decide later). */
  choose(path: StartPath | null): void {
    this.userChose = true;
    this.pending = path;
  }

  /** The download cannot start here: say why, and that training from scratch works offline. */
  get unreachableMessage(): string | null {
    const r = this.reach;
    if (!r || r.reachable || this.official?.downloaded) return null;
    return `Cannot reach the download (${r.host}: ${r.reason}). Train from scratch instead: it works offline.`;
  }

  /** Starts a path; false when it could not start (the reason is in `error`). */
  async begin(path: StartPath): Promise<boolean> {
    this.error = null;
    this.busy = true;
    try {
      if (path === 'scratch') {
        const id = await this.training.startOutcome('quick');
        if (!id) this.error = this.training.startError;
        await this.jobs.load();
        return id !== null;
      }
      if (!this.official?.downloaded) {
        const r = await this.check();
        if (r && !r.reachable) {
          this.error = this.unreachableMessage;
          return false;
        }
      }
      await this.api.invoke('models:add', { source: RECOMMENDED, finetune: path === 'official+finetune' });
      await this.jobs.load();
      return true;
    } catch (e) {
      this.error = errorMessage(e);
      return false;
    } finally {
      this.busy = false;
    }
  }
}
