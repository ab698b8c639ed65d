import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli as cli } from '../../testing/cli-capture';

// The "done when": 600 real photos imported, then all skipped in under a tenth of the time.
const repoRoot = resolve(import.meta.dirname, '..', '..', '..');
const caltech = resolve(repoRoot, '../shared/data/caltech10');


describe('dino-explorer import (CLI)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dino-cli-import-'));
  const catalog = join(dir, 'catalog');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('imports caltech10, then skips all 600 in under a tenth of the time', async () => {
    const first = await cli(['import', caltech, '--catalog', catalog, '--json']);
    expect(first.code).toBe(0);
    expect(first.json).toMatchObject({ imported: 600, unchanged: 0, updated: 0, removed: 0, failed: [] });
    const second = await cli(['import', caltech, '--catalog', catalog, '--json']);
    expect(second.code).toBe(0);
    expect(second.json).toMatchObject({ imported: 0, unchanged: 600, updated: 0, removed: 0, failed: [] });
    console.log(`caltech10 import: first ${first.ms.toFixed(0)} ms (job ${first.json.seconds} s), again ${second.ms.toFixed(0)} ms (job ${second.json.seconds} s)`);
    expect(second.ms).toBeLessThan(first.ms / 10);
    expect(second.json.seconds as number).toBeLessThan((first.json.seconds as number) / 10);

    const status = await cli(['status', '--catalog', catalog, '--json']);
    expect(status.code).toBe(0);
    expect(status.json).toMatchObject({ images: 600, failed: 0, gone: 0, models: [], catalog });
    expect(typeof status.json.backend).toBe('string');
  });

  it('answers a missing folder with a clear error (exit 1) and no folder with usage (exit 2)', async () => {
    const missing = join(dir, 'nope');
    const r = await cli(['import', missing, '--catalog', catalog, '--json']);
    expect(r.code).toBe(1);
    expect(r.json).toEqual({ error: `Folder not found: ${missing}` });
    const u = await cli(['import', '--catalog', catalog, '--json']);
    expect(u.code).toBe(2);
    expect(String(u.json.error)).toMatch(/at least one folder/);
  });
});
