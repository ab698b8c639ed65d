import { clustersApi } from './clusters';
import { exportApi } from './export';
import { jobsApi } from './jobs';
import { libraryApi } from './library';
import { searchApi } from './search';
import { startApi } from './start';
import type { ApiModule } from './table';
import { trainApi } from './train';

/** Every feature module of the API table. Each face builds its table from this one list. */
export const apiModules: readonly ApiModule[] = [jobsApi, libraryApi, trainApi, startApi, searchApi, clustersApi, exportApi];
