import { resolve } from 'node:path';

/** The checkout's root, for tests that read its files (sample photos, bin/, native/) from any folder. */
export const repoRoot = resolve(import.meta.dirname, '..', '..');
