import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobDTO, PresetDTO, TrainRunDTO } from '../../src-shared/api';
import { lastRun } from '../db/repos/training';
import { makePhoto } from '../testing/test-photos';
import { openCatalog, type Catalog } from '../services/catalog/catalog';
import { createApi, dispatch, type ApiTable } from './table';
import { trainApi } from './train';
import { startImport } from '../services/jobs/start-jobs';

describe('training API', () => {
  let dir: string;
  let catalog: Catalog;
  let api: ApiTable;
  const call = (channel: string, args: unknown): Promise<{ result?: unknown; error?: string }> => dispatch(api, channel, args);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dino-api-train-'));
    mkdirSync(join(dir, 'photos'));
    for (let i = 0; i < 8; i++) writeFileSync(join(dir, 'photos', `p${i}.png`), await makePhoto('png', i, 64, 48));
    catalog = openCatalog(join(dir, 'catalog'));
    await startImport(catalog, [join(dir, 'photos')]).promise;
    api = createApi(catalog, { kind: 'web' }, [trainApi]);
  });
  afterAll(async () => {
    await catalog.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists the presets with the active backend\'s default marked (no GPU here: the CPU default)', async () => {
    const r = await call('train:presets', {});
    const presets = r.result as PresetDTO[];
    expect(presets.filter((p) => p.isDefault).map((p) => p.name)).toEqual(['cpu-patch8']);
    expect(presets.find((p) => p.name === 'cpu-patch8')).toMatchObject({ arch: 'vit_tiny/8 (width 64, 4 blocks)' });
  });

  it('refuses unknown, mistyped and out-of-range hyperparameters before starting a job', async () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ techerTemp: 0.04 }, /unknown training option "techerTemp"/],
      [{ lr: -0.1 }, /lr \(-0.1\) must be a number from 0 to 1/],
      [{ batchSize: 7.5 }, /batchSize .* whole number/],
      [{ grayscaleProb: 1.2 }, /grayscaleProb/],
      [{ batchSize: 6, accumSteps: 4 }, /accumSteps/],
      [{ lr: '0.001' }, /arguments\.overrides\.lr must be a number/],
      [{ 'no such': 1 }, /bad field name/],
    ];
    for (const [overrides, message] of bad) {
      const r = await call('train:start', { preset: 'cpu-micro', epochs: 1, overrides });
      expect(r.error, JSON.stringify(overrides)).toMatch(/^bad request: /);
      expect(r.error).toMatch(message);
    }
    expect(catalog.jobs.list().filter((j) => j.kind === 'train')).toEqual([]);
    expect((await call('train:run', {})).result).toBeNull();
  });

  it('trains with the overrides and stores them in the run', async () => {
    const overrides = {
      globalSize: 32, localSize: 16, nLocal: 2, batchSize: 4, outDim: 64, hiddenDim: 32, bottleneckDim: 16,
      colorJitterProb: 0, grayscaleProb: 0.5, teacherTemp: 0.05,
    };
    const r = await call('train:start', { preset: 'cpu-micro', epochs: 1, overrides });
    expect(r.error).toBeUndefined();
    const { jobId } = r.result as { jobId: string };
    let job: JobDTO | undefined;
    for (let t = 0; t < 600; t++) {
      job = catalog.jobs.get(jobId);
      if (job && job.state !== 'running') break;
      await new Promise((res) => setTimeout(res, 200));
    }
    expect(job?.state, job?.error ?? '').toBe('done');
    const run = lastRun(catalog.db)!;
    expect(JSON.parse(run.config)).toMatchObject({ ...overrides, epochs: 1, batchSize: 4 });
    // the run lists exactly what it changed from its preset
    const dto = (await call('train:run', {})).result as TrainRunDTO;
    expect(dto).toMatchObject({ id: run.id, preset: 'cpu-micro', state: 'done' });
    expect(dto.changed).toEqual({ ...overrides, epochs: 1 });
    expect((await call('train:run', { runId: run.id + 1 })).result).toBeNull();
  }, 180_000);
});
