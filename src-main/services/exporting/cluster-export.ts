import { allMembers, getClustering, listClusters } from '../../db/repos/clusters';
import { getModel } from '../../db/repos/models';
import { exportClusters, type ExportMode, type ExportResult } from '../../export/folders';
import type { Catalog } from '../catalog/catalog';
import type { JobContext } from '../jobs/job-runner';

export interface ExportRunOptions {
  clusteringId: number;
  /** cluster numbers to export; default all */
  clusters?: number[];
  to: string;
  mode: ExportMode;
}

/** what the export wrote (export/folders.ts) */
export type ExportRunResult = ExportResult;

/**
 * Exports the chosen clusters of a clustering run (see export/folders for the layout and the rules).
 * Every photo is copied asynchronously and passes the job's checkpoint, so a large export keeps the
 * UI answering and stops within a photo of a cancel.
 */
export async function runExport(catalog: Catalog, opts: ExportRunOptions, ctx?: Pick<JobContext, 'progress' | 'checkpoint'>): Promise<ExportRunResult> {
  const c = getClustering(catalog.db, opts.clusteringId);
  if (!c) throw new Error(`There is no clustering ${opts.clusteringId} in this catalog.`);
  const clusters = listClusters(catalog.db, c.id);
  const wanted = opts.clusters ?? clusters.map((k) => k.cluster);
  for (const w of wanted) if (!clusters.some((k) => k.cluster === w)) throw new Error(`Clustering ${c.id} has no cluster ${w} (it has ${clusters.map((k) => k.cluster).join(', ')}).`);
  const members = allMembers(catalog.db, c.id);
  const model = getModel(catalog.db, c.modelId);
  const input = {
    model: { id: c.modelId, name: model?.name ?? `model ${c.modelId}` },
    clustering: { id: c.id, method: c.method, k: c.k, params: c.params },
    clusters: clusters
      .filter((k) => wanted.includes(k.cluster))
      .map((k) => ({ id: k.cluster, name: k.name, members: members.filter((m) => m.cluster === k.cluster) })),
  };
  ctx?.progress({ phase: 'exporting', done: 0, total: input.clusters.reduce((s, k) => s + k.members.length, 0) });
  return exportClusters(input, opts.to, opts.mode, {
    onProgress: (done, total) => ctx?.progress({ done, total }),
    checkpoint: () => ctx?.checkpoint(),
  });
}
