import type { ApiModule } from './table';
import { jobsApi } from './jobs';

/** Every feature module of the API table. Each face builds its table from this one list. */
export const apiModules: readonly ApiModule[] = [jobsApi];
