import { packMapPoints } from '../../src-shared/map-points';
import type { ApiModule } from './table';
import { v } from './validate';
import { clusterMembersPage, listClusteringDTOs, mergeClustersRecomputed, renameClusterChecked } from '../services/clusters/cluster-edits';
import { mapPoints } from '../services/clusters/map-layout';
import { startClusterJob, startProjectionJob } from '../services/jobs/start-jobs';

const id = v.int({ min: 1 });

export const clustersApi: ApiModule = (catalog) => ({
  'cluster:run': {
    check: v.object({
      k: v.optional(v.oneOf(v.int({ min: 1, max: 1000 }), v.literal('auto'))),
      method: v.optional(v.literal('kmeans', 'density')),
      minClusterSize: v.optional(v.int({ min: 2, max: 1_000_000 })),
    }),
    handle: ({ k, method, minClusterSize }) => ({ jobId: startClusterJob(catalog, { k, method, minClusterSize }).id }),
  },
  'cluster:list': { check: v.object({}), handle: () => listClusteringDTOs(catalog) },
  'cluster:members': {
    check: v.object({ clusteringId: id, cluster: v.int({ min: 0 }), offset: v.int({ min: 0 }), limit: v.int({ min: 1, max: 1000 }) }),
    handle: ({ clusteringId, cluster, offset, limit }) => clusterMembersPage(catalog, clusteringId, cluster, offset, limit),
  },
  'cluster:rename': {
    check: v.object({ clusteringId: id, cluster: v.int({ min: 0 }), name: v.string({ min: 1, max: 200 }) }),
    handle: ({ clusteringId, cluster, name }) => ({ ok: renameClusterChecked(catalog, clusteringId, cluster, name) }),
  },
  'cluster:merge': {
    check: v.object({ clusteringId: id, into: v.int({ min: 0 }), from: v.int({ min: 0 }) }),
    handle: ({ clusteringId, into, from }) => ({ ok: mergeClustersRecomputed(catalog, clusteringId, into, from) }),
  },
  'map:points': {
    check: v.object({ clusteringId: v.optional(id) }),
    // packed: 16 bytes a point where JSON took ~70 (and 100k of them a long main-thread parse in the UI)
    handle: ({ clusteringId }) => packMapPoints(mapPoints(catalog, { clusteringId })),
  },
  'map:compute': { check: v.object({}), handle: () => ({ jobId: startProjectionJob(catalog).id }) },
});
