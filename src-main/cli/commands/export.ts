import { resolve } from 'node:path';
import { intOpt, stringOpt, UsageError, type Command } from '../command';
import { startExportJob } from '../../services/jobs/start-jobs';

const MODES = ['copy', 'hardlink', 'symlink', 'manifest'] as const;

export const command: Command = {
  name: 'export',
  summary: 'export clusters to folders (ImageFolder layout) with clusters.csv and clusters.json; never overwrites',
  usage: 'export --clustering ID --to DIR --mode copy|hardlink|symlink|manifest [--clusters a,b] [--catalog DIR] [--json]',
  readOnly: true,
  options: { clustering: { type: 'string' }, to: { type: 'string' }, mode: { type: 'string' }, clusters: { type: 'string' } },
  async run(ctx) {
    const clusteringId = intOpt(ctx, 'clustering', 1);
    if (clusteringId === undefined) throw new UsageError('--clustering ID is required (see `cluster`)');
    const to = stringOpt(ctx, 'to');
    if (!to) throw new UsageError('--to DIR is required');
    const mode = stringOpt(ctx, 'mode') ?? 'copy';
    if (!(MODES as readonly string[]).includes(mode)) throw new UsageError(`--mode must be one of ${MODES.join(', ')}`);
    const list = stringOpt(ctx, 'clusters');
    const clusters = list?.split(',').map((s) => {
      const n = Number(s.trim());
      if (!Number.isInteger(n) || n < 0) throw new UsageError(`--clusters takes cluster numbers separated by commas, got ${list}`);
      return n;
    });
    const job = startExportJob(ctx.catalog(), { clusteringId, clusters, to: resolve(to), mode: mode as (typeof MODES)[number] });
    const r = await job.promise;
    return { exported: r.exported, to: r.to, manifest: r.manifest, json: r.json, folders: r.folders, missing: r.missing };
  },
};
