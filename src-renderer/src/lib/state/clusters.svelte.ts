import type { ClusteringDTO, DinoApi } from '../../../../src-shared/api';
import { errorMessage } from '../format';

export type ClusterRunArgs = { method: 'kmeans'; k: number | 'auto' } | { method: 'density'; minClusterSize?: number };

/** The method of a clustering in a few words: "k-means, k = 4", "density, min size 10". */
export function methodLabel(c: ClusteringDTO): string {
  if (c.method === 'density') return c.minClusterSize !== null ? `density, min size ${c.minClusterSize}` : 'density';
  return `${c.method === 'spherical-kmeans' ? 'k-means' : c.method}, k = ${c.k}${c.criterion ? ' (auto)' : ''}`;
}

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

  /** k-means (k a number or 'auto') or density (minClusterSize undefined = the default for the library) */
  async run(opts: ClusterRunArgs): Promise<void> {
    this.actionError = null;
    try {
      await this.api.invoke('cluster:run', opts.method === 'density' ? { method: 'density', minClusterSize: opts.minClusterSize } : { method: 'kmeans', k: opts.k });
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
