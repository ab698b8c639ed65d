import { isAbsolute } from 'node:path';
import type { ApiModule } from './table';
import { BadRequestError, v } from './validate';
import { startExportJob } from '../services/jobs/start-jobs';

export const exportApi: ApiModule = (catalog) => ({
  'export:run': {
    check: v.object({
      clusteringId: v.int({ min: 1 }),
      clusters: v.optional(v.array(v.int({ min: 0 }), { max: 10_000 })),
      to: v.string({ min: 1, max: 4096 }),
      mode: v.literal('copy', 'hardlink', 'symlink', 'manifest'),
    }),
    handle: ({ clusteringId, clusters, to, mode }) => {
      // the renderer picks the folder in a native dialog; a relative path would depend on the cwd
      if (!isAbsolute(to)) throw new BadRequestError('arguments.to must be an absolute path');
      return { jobId: startExportJob(catalog, { clusteringId, clusters, to, mode }).id };
    },
  },
});
