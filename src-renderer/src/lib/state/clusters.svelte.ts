import type { ClusteringDTO, DinoApi } from '../../../../src-shared/api';
import { errorMessage } from '../format';

/** The clusterings of the active model (cluster:list), newest first. */
export class ClustersState {
  list = $state<ClusteringDTO[] | null>(null);
  error = $state<string | null>(null);
  actionError = $state<string | null>(null);
  selectedId = $state<number | null>(null);
  readonly current = $derived(this.list?.find((c) => c.id === this.selectedId) ?? this.list?.[0] ?? null);

  constructor(private readonly api: DinoApi) {}

  async load(): Promise<void> {
    try {
      const list = await this.api.invoke('cluster:list', {});
      this.list = [...list].sort((a, b) => b.id - a.id);
      this.error = null;
    } catch (e) {
      this.error = errorMessage(e);
    }
  }

  async run(k: number | 'auto'): Promise<void> {
    this.actionError = null;
    try {
      await this.api.invoke('cluster:run', { k });
      this.selectedId = null;
    } catch (e) {
      this.actionError = `Could not start clustering: ${errorMessage(e)}`;
    }
  }

  async rename(clusteringId: number, cluster: number, name: string): Promise<void> {
    this.actionError = null;
    try {
      await this.api.invoke('cluster:rename', { clusteringId, cluster, name });
      await this.load();
    } catch (e) {
      this.actionError = `Could not rename: ${errorMessage(e)}`;
    }
  }

  async merge(clusteringId: number, into: number, from: number): Promise<void> {
    this.actionError = null;
    try {
      await this.api.invoke('cluster:merge', { clusteringId, into, from });
      await this.load();
    } catch (e) {
      this.actionError = `Could not merge: ${errorMessage(e)}`;
    }
  }
}
