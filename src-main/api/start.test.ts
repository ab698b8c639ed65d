/**
 * Training by outcome and the first-run paths through the API: the choices and their time estimates,
 * the measurement that makes an estimate, an outcome becoming a run, and whether the official download
 * answers (a local server stands in for it).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobDTO, OfficialWeightsDTO, OutcomeDTO, ReachableDTO } from '../../src-shared/api';
import { getStepTiming, putStepTiming } from '../db/repos/step-timings';
import { lastRun } from '../db/repos/training';
import { listenLocal, type LocalServer } from '../testing/local-server';
import { repoRoot } from '../testing/repo-root';
import { probeBackend } from '../services/backends/backend-probe';
import { openCatalog, type Catalog } from '../services/catalog/catalog';
import { startApi } from './start';
import { createApi, dispatch, type ApiTable } from './table';
import { trainApi } from './train';
import { startImport } from '../services/jobs/start-jobs';

const samples = join(repoRoot, 'resources', 'sample-photos');

async function settle(catalog: Catalog, jobId: string): Promise<JobDTO> {
  for (;;) {
    const job = catalog.jobs.get(jobId)!;
    if (job.state !== 'running' && job.state !== 'paused') return job;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('training by outcome, first-run paths', () => {
  let dir: string;
  let catalog: Catalog;
  let api: ApiTable;
  let server: LocalServer;
  const call = (channel: string, args: unknown): Promise<{ result?: unknown; error?: string }> => dispatch(api, channel, args);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dino-api-start-'));
    catalog = openCatalog(join(dir, 'catalog'));
    await startImport(catalog, [samples]).promise;
    api = createApi(catalog, { kind: 'web' }, [trainApi, startApi]);
    server = await listenLocal((req, res) => res.writeHead(req.url === '/dino_deitsmall16_pretrain/dino_deitsmall16_pretrain.pth' ? 200 : 404).end());
  });
  afterAll(async () => {
    await server.close();
    await catalog.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('offers three outcomes on this backend, each with its preset and step budget for these 36 photos', async () => {
    const outcomes = (await call('train:outcomes', {})).result as OutcomeDTO[];
    // no GPU here: the CPU column; batch 32 makes one step an epoch of 36 photos
    expect(outcomes.map((o) => [o.outcome, o.preset, o.epochs, o.steps, o.fromWeights, o.isDefault])).toEqual([
      ['quick', 'cpu-patch8', 1200, 1200, false, true],
      ['thorough', 'cpu-patch8', 3600, 3600, false, false],
      ['finetune', 'finetune-cpu', 3, 6, true, false],
    ]);
    expect(outcomes.map((o) => o.title)).toEqual(['Quick look', 'Thorough', 'Fine-tune official weights']);
  });

  it('measures the step time of an outcome once, and estimates from it', async () => {
    const backend = (await probeBackend()).description;
    expect(((await call('train:outcomes', {})).result as OutcomeDTO[])[0]!.secondsEstimate).toBeNull();
    expect((await call('train:calibrate', { outcomes: ['bogus'] })).error).toMatch(/^bad request: /);
    const { jobId } = (await call('train:calibrate', { outcomes: ['quick'] })).result as { jobId: string };
    const job = await settle(catalog, jobId);
    expect(job.state, job.error ?? '').toBe('done');
    const ms = getStepTiming(catalog.db, backend, 'cpu-patch8')!;
    expect(ms).toBeGreaterThan(0);
    // nothing left to measure for it; the fine-tune's preset was not asked for
    expect((await call('train:calibrate', { outcomes: ['quick', 'thorough'] })).result).toEqual({ jobId: null });
    expect(getStepTiming(catalog.db, backend, 'finetune-cpu')).toBeNull();
    putStepTiming(catalog.db, backend, 'cpu-patch8', 250);
    const [quick, thorough, finetune] = (await call('train:outcomes', {})).result as OutcomeDTO[];
    expect(quick!.secondsEstimate).toBeCloseTo(1200 * 0.25, 6);
    expect(thorough!.secondsEstimate).toBeCloseTo(3600 * 0.25, 6);
    expect(finetune!.secondsEstimate).toBeNull();
  });

  it('an outcome becomes a run of its preset and step budget; a measurement running beside it stops', async () => {
    // the ViT-S/16 fine-tune's measurement takes seconds: training that starts meanwhile ends it
    const calibration = ((await call('train:calibrate', { outcomes: ['finetune'] })).result as { jobId: string }).jobId;
    const r = await call('train:start', { outcome: 'quick' });
    expect(r.error).toBeUndefined();
    expect((await settle(catalog, calibration)).state).toBe('cancelled');
    expect(getStepTiming(catalog.db, (await probeBackend()).description, 'finetune-cpu')).toBeNull();
    const { jobId } = r.result as { jobId: string };
    for (let t = 0; !lastRun(catalog.db) && t < 600; t++) await new Promise((res) => setTimeout(res, 100));
    catalog.jobs.cancel(jobId);
    await settle(catalog, jobId);
    const run = lastRun(catalog.db)!;
    expect(run.preset).toBe('cpu-patch8');
    expect(JSON.parse(run.config)).toMatchObject({ epochs: 1200, initFrom: null });
    expect((await call('train:start', { outcome: 'someday' })).error).toMatch(/^bad request: /);
  });

  it('tells whether the official download answers, and how much of an interrupted one is kept', async () => {
    const prev = process.env.DINO_WEIGHTS_BASE_URL;
    try {
      process.env.DINO_WEIGHTS_BASE_URL = server.url;
      expect((await call('models:reachable', {})).result).toMatchObject({ reachable: true, reason: null });
      process.env.DINO_WEIGHTS_BASE_URL = 'http://127.0.0.1:9';
      expect((await call('models:reachable', { source: 'dino_vits16' })).result as ReachableDTO).toEqual({
        reachable: false, host: '127.0.0.1:9', reason: 'the connection was refused',
      });
      expect((await call('models:reachable', { source: 'dino_resnet50' })).error).toMatch(/unknown official checkpoint/);
    } finally {
      if (prev === undefined) delete process.env.DINO_WEIGHTS_BASE_URL;
      else process.env.DINO_WEIGHTS_BASE_URL = prev;
    }
    mkdirSync(catalog.paths.models, { recursive: true });
    writeFileSync(join(catalog.paths.models, 'dino_deitsmall16_pretrain.pth.part'), Buffer.alloc(4321));
    const official = (await call('models:official', {})).result as OfficialWeightsDTO[];
    expect(official[0]).toMatchObject({ name: 'dino_vits16', title: 'DINO ViT-S/16', downloaded: false, partialBytes: 4321 });
    expect(official.find((w) => w.name === 'dino_vitb8')).toMatchObject({ title: 'DINO ViT-B/8', partialBytes: 0 });
  });
});
