import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fromBundle } from '../catalog/app-files';
import { WORKER_ENTRIES, workerModule, type WorkerName } from './worker-entries';
import { repoRoot } from '../../testing/repo-root';

const root = repoRoot;

/** every *-worker.ts under src-main, the tests' own workers (testing/) aside */
function workerSources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'fixtures' || e.name === 'testing' ? [] : workerSources(p);
    return /-worker\.ts$/.test(e.name) ? [relative(root, p)] : [];
  });
}

describe('worker entries', () => {
  it('lists every worker module, so the build emits each one', () => {
    expect(Object.values(WORKER_ENTRIES).sort()).toEqual(workerSources(join(root, 'src-main')).sort());
  });

  it('gives the TypeScript source when running from the sources', () => {
    expect(fromBundle).toBe(false);
    for (const [name, source] of Object.entries(WORKER_ENTRIES)) {
      const file = fileURLToPath(workerModule(name as WorkerName));
      expect(relative(root, file)).toBe(source);
      expect(existsSync(file)).toBe(true);
    }
  });
});
