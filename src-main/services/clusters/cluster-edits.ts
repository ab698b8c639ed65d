import type { ClusteringDTO, ImageDTO, Page } from '../../../src-shared/api';
import { normalizeAt } from '../../analysis/vectors';
import {
  clusterMembers,
  getCluster,
  getClustering,
  listClusterings,
  listClusters,
  memberIds,
  mergeClusters,
  renameCluster,
  representatives,
} from '../../db/repos/clusters';
import { getEmbeddings } from '../../db/repos/embeddings';
import { getImage, toImageDTO } from '../../db/repos/images';
import type { Catalog } from '../catalog/catalog';

// A stored clustering as the faces show and edit it: its clusters with representatives, a cluster's
// members page by page, renaming and merging.

/** How many photos closest to a centroid represent a cluster on its card. */
const REPRESENTATIVES = 6;

/** Clustering runs with their clusters and representatives, newest first. */
export function listClusteringDTOs(catalog: Catalog, modelId?: number): ClusteringDTO[] {
  return listClusterings(catalog.db, modelId).map((c) => ({
    id: c.id,
    modelId: c.modelId,
    k: c.k,
    method: c.method,
    criterion: typeof c.params.criterion === 'string' ? c.params.criterion : null,
    noise: typeof c.params.noise === 'number' ? c.params.noise : 0,
    minClusterSize: typeof c.params.minClusterSize === 'number' ? c.params.minClusterSize : null,
    createdAt: c.createdAt,
    clusters: listClusters(catalog.db, c.id).map((k) => ({
      id: k.cluster,
      name: k.name,
      size: k.size,
      cohesion: k.cohesion,
      representatives: representatives(catalog.db, c.id, k.cluster, REPRESENTATIVES),
    })),
  }));
}

export function clusterMembersPage(catalog: Catalog, clusteringId: number, cluster: number, offset: number, limit: number): Page<ImageDTO> {
  if (!getCluster(catalog.db, clusteringId, cluster)) throw new Error(`There is no cluster ${cluster} in clustering ${clusteringId}.`);
  const { items, total } = clusterMembers(catalog.db, clusteringId, cluster, offset, limit);
  return { items: items.flatMap((m) => { const r = getImage(catalog.db, m.imageId); return r ? [toImageDTO(r)] : []; }), total, offset };
}

export function renameClusterChecked(catalog: Catalog, clusteringId: number, cluster: number, name: string): boolean {
  const clean = name.trim();
  if (!clean) throw new Error('A cluster name cannot be empty.');
  if (clean.length > 200) throw new Error('A cluster name is at most 200 characters.');
  return renameCluster(catalog.db, clusteringId, cluster, clean);
}

/** Merges `from` into `into`: the merged centroid, cohesion and similarities are recomputed. */
export function mergeClustersRecomputed(catalog: Catalog, clusteringId: number, into: number, from: number): boolean {
  const c = getClustering(catalog.db, clusteringId);
  if (!c || into === from) return false;
  if (!getCluster(catalog.db, clusteringId, into) || !getCluster(catalog.db, clusteringId, from)) return false;
  const ids = [...memberIds(catalog.db, clusteringId, into), ...memberIds(catalog.db, clusteringId, from)];
  const rows = getEmbeddings(catalog.db, c.modelId, ids);
  const dim = rows[0]?.vector.length ?? 0;
  const centroid = new Float32Array(dim);
  for (const r of rows) for (let j = 0; j < dim; j++) centroid[j]! += r.vector[j]!;
  normalizeAt(centroid, 0, dim);
  const similarities = new Map<number, number>();
  let sum = 0;
  for (const r of rows) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += r.vector[j]! * centroid[j]!;
    similarities.set(r.imageId, s);
    sum += s;
  }
  return mergeClusters(catalog.db, clusteringId, into, from, { centroid, cohesion: rows.length ? sum / rows.length : 0, similarities });
}
