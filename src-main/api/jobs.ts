import type { ApiModule } from './table';
import { noArgs, v } from './validate';

const jobId = v.object({ jobId: v.string({ min: 1, max: 64 }) });

export const jobsApi: ApiModule = (catalog) => ({
  'jobs:list': { check: noArgs, handle: () => catalog.jobs.list() },
  'jobs:cancel': { check: jobId, handle: ({ jobId }) => ({ ok: catalog.jobs.cancel(jobId) }) },
  'jobs:pause': { check: jobId, handle: ({ jobId }) => ({ ok: catalog.jobs.pause(jobId) }) },
  'jobs:resume': { check: jobId, handle: ({ jobId }) => ({ ok: catalog.jobs.resume(jobId) }) },
});
