import { startClusterJob, type ClusterRunResult } from '../../services/clusters';
import { intOpt, stringOpt, UsageError, type Command } from '../command';

export const command: Command = {
  name: 'cluster',
  summary: 'group the photos by spherical k-means on their embeddings (k given or chosen automatically)',
  usage: 'cluster [--k N|auto] [--model ID] [--seed S] [--catalog DIR] [--json]',
  options: { k: { type: 'string' }, model: { type: 'string' }, seed: { type: 'string' } },
  async run(ctx) {
    const kArg = stringOpt(ctx, 'k') ?? 'auto';
    let k: number | 'auto' = 'auto';
    if (kArg !== 'auto') {
      k = Number(kArg);
      if (!Number.isInteger(k) || k < 1) throw new UsageError(`--k must be a positive integer or auto, got ${kArg}`);
    }
    const catalog = ctx.catalog();
    const job = startClusterJob(catalog, { k, modelId: intOpt(ctx, 'model', 1), seed: intOpt(ctx, 'seed', 0) });
    return await job.promise;
  },
  human(result) {
    const r = result as ClusterRunResult;
    return [`clustering ${r.clustering}: k = ${r.k}`, ...r.clusters.map((c) => `  ${c.id}  ${c.name}  ${c.size} photos  cohesion ${c.cohesion.toFixed(3)}`)].join('\n');
  },
};
