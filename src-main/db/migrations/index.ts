import type { Migration } from '../migrate';
import { migration010 } from './010-images';
import { migration020 } from './020-models';
import { migration030 } from './030-clusters';
import { migration040 } from './040-embedding-versions';
import { migration050 } from './050-quality';

/** Every migration, in order. Numbers rise in steps of 10 so a fix can slot in between. */
export const migrations: readonly Migration[] = [migration010, migration020, migration030, migration040, migration050];
