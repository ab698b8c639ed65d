import type { DinoApi, JobDTO } from '../../../../src-shared/api';
import { errorMessage } from '../format';

export function isLive(job: JobDTO): boolean {
  return job.state === 'running' || job.state === 'paused';
}

/** Every background job this session knows of, kept current by job:progress events. */
export class JobsState {
  jobs = $state<JobDTO[]>([]);
  error = $state<string | null>(null);
  readonly live = $derived(this.jobs.filter(isLive));
  /** the import the library view reports on: the live one, else the latest finished one */
  readonly currentImport = $derived(latest(this.jobs.filter((j) => j.kind === 'import' && isLive(j))) ?? latest(this.jobs.filter((j) => j.kind === 'import')));

  constructor(private readonly api: DinoApi) {}

  apply(job: JobDTO): void {
    const i = this.jobs.findIndex((j) => j.id === job.id);
    // a jobs:list answer can arrive after a newer job:progress event: never go back in time
    if (i >= 0) {
      if (job.version >= this.jobs[i]!.version) this.jobs[i] = job;
    } else this.jobs.push(job);
  }

  async load(): Promise<void> {
    try {
      const list = await this.api.invoke('jobs:list', {});
      for (const j of list) this.apply(j);
      this.error = null;
    } catch (e) {
      this.error = errorMessage(e);
    }
  }

  async cancel(jobId: string): Promise<void> {
    try {
      await this.api.invoke('jobs:cancel', { jobId });
    } catch (e) {
      this.error = `Could not cancel the job: ${errorMessage(e)}`;
    }
  }

  async pause(jobId: string): Promise<void> {
    try {
      await this.api.invoke('jobs:pause', { jobId });
    } catch (e) {
      this.error = `Could not pause the job: ${errorMessage(e)}`;
    }
  }

  async resume(jobId: string): Promise<void> {
    try {
      await this.api.invoke('jobs:resume', { jobId });
    } catch (e) {
      this.error = `Could not resume the job: ${errorMessage(e)}`;
    }
  }

  /** the newest job of a kind, live or not */
  latestOf(kind: JobDTO['kind']): JobDTO | undefined {
    return latest(this.jobs.filter((j) => j.kind === kind));
  }

  dismiss(jobId: string): void {
    this.jobs = this.jobs.filter((j) => j.id !== jobId || isLive(j));
  }
}

function latest(jobs: JobDTO[]): JobDTO | undefined {
  let best: JobDTO | undefined;
  for (const j of jobs) if (!best || j.startedAt >= best.startedAt) best = j;
  return best;
}
