import type { ClusterMethod, ClusterRunResult } from '../../services/clusters/clustering';
import { intOpt, stringOpt, UsageError, type Command } from '../command';
import { startClusterJob } from '../../services/jobs/start-jobs';

export const command: Command = {
  name: 'cluster',
  summary: 'group the photos: spherical k-means (k given or automatic) or density clusters that leave outliers unassigned',
  usage: 'cluster [--method kmeans|density] [--k N|auto] [--min-size N] [--model ID] [--seed S] [--catalog DIR] [--json]',
  options: { method: { type: 'string' }, k: { type: 'string' }, 'min-size': { type: 'string' }, model: { type: 'string' }, seed: { type: 'string' } },
  async run(ctx) {
    const method = stringOpt(ctx, 'method') ?? 'kmeans';
    if (method !== 'kmeans' && method !== 'density') throw new UsageError(`--method must be kmeans or density, got ${method}`);
    const kArg = stringOpt(ctx, 'k') ?? 'auto';
    let k: number | 'auto' = 'auto';
    if (kArg !== 'auto') {
      k = Number(kArg);
      if (!Number.isInteger(k) || k < 1) throw new UsageError(`--k must be a positive integer or auto, got ${kArg}`);
    }
    // each option belongs to one method: say so rather than ignore it
    if (method === 'density' && kArg !== 'auto') throw new UsageError('--k applies to --method kmeans; density clusters take --min-size');
    const minClusterSize = intOpt(ctx, 'min-size', 2);
    if (method === 'kmeans' && minClusterSize !== undefined) throw new UsageError('--min-size applies to --method density');
    const catalog = ctx.catalog();
    const job = startClusterJob(catalog, { method: method as ClusterMethod, k, minClusterSize, modelId: intOpt(ctx, 'model', 1), seed: intOpt(ctx, 'seed', 0) });
    return await job.promise;
  },
  human(result) {
    const r = result as ClusterRunResult;
    const head = `clustering ${r.clustering} (${r.method}): k = ${r.k}${r.method === 'density' ? `, ${r.noise} photos in no cluster` : ''}`;
    return [head, ...(r.criterion ? [`  ${r.criterion}`] : []), ...r.clusters.map((c) => `  ${c.id}  ${c.name}  ${c.size} photos  cohesion ${c.cohesion.toFixed(3)}`)].join('\n');
  },
};
