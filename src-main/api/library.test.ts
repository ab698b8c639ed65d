import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageDTO, JobDTO, Page } from '../../src-shared/api';
import { makePhoto } from '../testing/test-photos';
import { openCatalog, type Catalog } from '../services/catalog/catalog';
import { libraryApi } from './library';
import { createApi, dispatch, type ApiTable } from './table';

describe('library API', () => {
  let dir: string;
  let catalog: Catalog;
  let api: ApiTable;
  const call = (channel: string, args: unknown): Promise<{ result?: unknown; error?: string }> => dispatch(api, channel, args);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dino-api-library-'));
    mkdirSync(join(dir, 'photos'));
    for (let i = 0; i < 5; i++) writeFileSync(join(dir, 'photos', `p${i}.jpg`), await makePhoto('jpeg', i));
    writeFileSync(join(dir, 'photos', 'bad.jpg'), 'no');
    catalog = openCatalog(join(dir, 'catalog'));
    api = createApi(catalog, { kind: 'web' }, [libraryApi]);
  });
  afterAll(async () => {
    await catalog.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses bad arguments with a bad-request error', async () => {
    const bad: [string, unknown][] = [
      ['library:images', { offset: -1, limit: 10 }],
      ['library:images', { offset: 0, limit: 0 }],
      ['library:images', { offset: 0, limit: 1e9 }],
      ['library:images', { offset: '0', limit: 10 }],
      ['library:image', { id: 1.5 }],
      ['library:image', {}],
      ['library:import', { folders: 'photos' }],
      ['library:import', { folders: [''] }],
      ['library:import', { folders: [join(dir, 'photos')], extra: 1 }],
      ['app:setSettings', { thumbSize: 10 }],
      ['app:setSettings', { backend: 'quantum' }],
      ['app:status', { x: 1 }],
    ];
    for (const [channel, args] of bad) {
      const r = await call(channel, args);
      expect(r.error, `${channel} ${JSON.stringify(args)}`).toMatch(/^bad request: /);
    }
  });

  it('imports through a job and pages the photos in path order', async () => {
    const missing = await call('library:import', { folders: [join(dir, 'nope')] });
    expect(missing.error).toBe(`Folder not found: ${join(dir, 'nope')}`);
    const started = (await call('library:import', { folders: [join(dir, 'photos')] })).result as { jobId: string };
    const done = await new Promise<JobDTO>((ok) => {
      const check = (): void => {
        const j = catalog.jobs.get(started.jobId);
        if (j && j.state !== 'running') ok(j);
        else setTimeout(check, 20);
      };
      check();
    });
    expect(done.state).toBe('done');
    const page = (await call('library:images', { offset: 1, limit: 2 })).result as Page<ImageDTO>;
    expect(page.total).toBe(5);
    expect(page.offset).toBe(1);
    expect(page.items.map((i) => i.path)).toEqual([join(dir, 'photos', 'p1.jpg'), join(dir, 'photos', 'p2.jpg')]);
    const one = (await call('library:image', { id: page.items[0]!.id })).result as ImageDTO;
    expect(one).toMatchObject({ path: join(dir, 'photos', 'p1.jpg'), status: 'ok', width: 48, height: 32 });
    expect((await call('library:image', { id: 999999 })).error).toBe('No photo with id 999999');
    const failures = (await call('library:failures', {})).result as { path: string; reason: string }[];
    expect(failures).toEqual([expect.objectContaining({ path: join(dir, 'photos', 'bad.jpg'), reason: expect.stringMatching(/not an image/) })]);
    const status = (await call('app:status', {})).result as Record<string, unknown>;
    expect(status).toMatchObject({ images: 5, failed: 1, gone: 0, models: [], activeModel: null, catalog: catalog.paths.root });
    expect(status.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('stores settings over defaults', async () => {
    expect((await call('app:settings', {})).result).toEqual({ backend: 'auto', thumbSize: 200, defaultK: 20 });
    expect((await call('app:setSettings', { thumbSize: 160, backend: 'cpu' })).result).toEqual({ backend: 'cpu', thumbSize: 160, defaultK: 20 });
    expect((await call('app:settings', {})).result).toEqual({ backend: 'cpu', thumbSize: 160, defaultK: 20 });
  });

  it('offers the bundled samples with their licence, and a folder picker only where the face has one', async () => {
    const samples = (await call('library:samples', {})).result as { path: string; count: number; licence: string };
    expect(samples.path).toMatch(/resources[/\\]sample-photos$/);
    expect(samples.count).toBeGreaterThanOrEqual(30);
    expect(samples.licence).toMatch(/CC BY 4\.0/);
    expect(samples.licence).toMatch(/MIT/);
    expect((await call('library:pickFolder', {})).result).toEqual({ path: null });
    const electron = createApi(catalog, { kind: 'electron', pickFolder: async () => '/picked' }, [libraryApi]);
    expect(await dispatch(electron, 'library:pickFolder', {})).toEqual({ result: { path: '/picked' } });
  });
});
