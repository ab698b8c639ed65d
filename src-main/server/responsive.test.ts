/**
 * The app never freezes: web mode answers app:status within a second while each kind of job runs on
 * a large input (started through the API, as the UI starts them), and a cancel stops a job within a
 * second (embed, train, cluster, map, export). Kinds: import (200 photos of 512x384), download (models add of an official name from a
 * local server: download, read in a worker, embed 200 photos), embed (200 photos), train (200 photos,
 * cancelled after a few steps), cluster and map (8000 embeddings), export (8000 files, copied).
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobDTO } from '../../src-shared/api';
import { syntheticEmbeddings } from '../analysis/synthetic';
import { row } from '../analysis/vectors';
import { putEmbeddings } from '../db/repos/embeddings';
import { insertModel } from '../db/repos/models';
import { listenLocal, type LocalServer } from '../testing/local-server';
import { makePhoto } from '../testing/test-photos';
import { openCatalog, type Catalog } from '../services/catalog/catalog';
import { startServer, type RunningServer } from './server';

const dir = mkdtempSync(join(tmpdir(), 'dino-responsive-'));
const weights = readFileSync(join(import.meta.dirname, '..', 'dino', 'weights', 'fixtures', 'vit_p16_full_checkpoint.pth'));
let catalog: Catalog;
let server: RunningServer;
let weightsHost: LocalServer;
const previousBase = process.env.DINO_WEIGHTS_BASE_URL;

function api<T>(channel: string, args: object = {}): Promise<T> {
  return new Promise((ok, fail) => {
    const body = JSON.stringify(args);
    const req = request(
      { host: '127.0.0.1', port: server.port, path: `/api/${channel}`, method: 'POST', headers: { host: `127.0.0.1:${server.port}`, 'x-dino-token': server.token, 'content-type': 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const e = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { result?: T; error?: string };
          if (e.error !== undefined) fail(new Error(`${channel}: ${e.error}`));
          else ok(e.result as T);
        });
      },
    );
    req.on('error', fail);
    req.end(body);
  });
}

interface Watched {
  job: JobDTO;
  /** app:status answers while the job ran, and the slowest of them (ms) */
  answers: number;
  worst: number;
  /** from the cancel request until the job said 'cancelled' (ms) */
  cancelMs?: number;
  /** from the cancel request until the last progress seen (ms): how long the work went on */
  workedAfterCancelMs?: number;
}

/** Starts a job through the API and asks app:status every 50 ms until it ends (cancelling it when `cancelWhen` says so). */
async function watch(start: () => Promise<{ jobId: string }>, cancelWhen?: (job: JobDTO) => boolean): Promise<Watched> {
  const { jobId } = await start();
  let worst = 0;
  let answers = 0;
  let cancelledAt: number | undefined;
  let doneAtCancel = 0;
  let workedAfterCancelMs = 0;
  for (;;) {
    const t0 = performance.now();
    await api('app:status');
    worst = Math.max(worst, performance.now() - t0);
    answers++;
    const job = (await api<JobDTO[]>('jobs:list')).find((j) => j.id === jobId)!;
    if (cancelledAt !== undefined && job.done > doneAtCancel) {
      doneAtCancel = job.done;
      workedAfterCancelMs = performance.now() - cancelledAt;
    }
    if (job.state !== 'running' && job.state !== 'paused') {
      return { job, answers, worst, ...(cancelledAt !== undefined ? { cancelMs: performance.now() - cancelledAt, workedAfterCancelMs } : {}) };
    }
    if (cancelledAt === undefined && cancelWhen?.(job)) {
      cancelledAt = performance.now();
      doneAtCancel = job.done;
      await api('jobs:cancel', { jobId });
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

const worstByKind: Record<string, number> = {};
function expectResponsive(kind: string, w: Watched, state: JobDTO['state'] = 'done'): void {
  worstByKind[kind] = Math.round(w.worst);
  expect(w.job.state, `${kind}: ${w.job.error ?? ''}`).toBe(state);
  expect(w.answers, kind).toBeGreaterThanOrEqual(2);
  expect(w.worst, `${kind}: app:status took up to ${w.worst.toFixed(0)} ms`).toBeLessThan(1000);
}

beforeAll(async () => {
  const photos = join(dir, 'photos');
  mkdirSync(photos);
  for (let i = 0; i < 200; i++) writeFileSync(join(photos, `p${String(i).padStart(3, '0')}.jpg`), await makePhoto('jpeg', i, 512, 384));
  // the official file, as a download server would hand it out
  weightsHost = await listenLocal((req, res) => {
    if (req.url === '/dino_deitsmall16_pretrain/dino_deitsmall16_pretrain.pth') res.writeHead(200, { 'content-length': weights.length }).end(weights);
    else res.writeHead(404).end();
  });
  process.env.DINO_WEIGHTS_BASE_URL = weightsHost.url;
  const ui = join(dir, 'ui');
  mkdirSync(ui);
  writeFileSync(join(ui, 'index.html'), '<!doctype html><title>ui</title>');
  catalog = openCatalog(join(dir, 'catalog'));
  server = await startServer(catalog, { rendererDir: ui });
});

afterAll(async () => {
  console.log(`slowest app:status per job kind (ms): ${JSON.stringify(worstByKind)}`);
  await server.close();
  await catalog.close();
  await weightsHost.close();
  if (previousBase === undefined) delete process.env.DINO_WEIGHTS_BASE_URL;
  else process.env.DINO_WEIGHTS_BASE_URL = previousBase;
  rmSync(dir, { recursive: true, force: true });
});

describe('web mode answers app:status within a second during every kind of job', () => {
  let tinyModel = 0;

  it('import of 200 photos', async () => {
    const w = await watch(() => api('library:import', { folders: [join(dir, 'photos')] }));
    expectResponsive('import', w);
    expect(w.job.result).toMatchObject({ imported: 200 });
  });

  it('download: an official name fetched, read in a worker and embedded (200 photos)', async () => {
    const w = await watch(() => api('models:add', { source: 'dino_vits16' }));
    expectResponsive('download', w);
    expect(w.job.result).toMatchObject({ downloaded: true, embedded: 200 });
    tinyModel = (w.job.result as { model: number }).model;
  });

  it('embed of 200 photos, and a cancel that stops it within a second', async () => {
    catalog.db.prepare('DELETE FROM embeddings WHERE model_id = ?').run(tinyModel);
    expectResponsive('embed', await watch(() => api('embed:start', { modelId: tinyModel })));
    catalog.db.prepare('DELETE FROM embeddings WHERE model_id = ?').run(tinyModel);
    const cancelled = await watch(() => api('embed:start', { modelId: tinyModel }), (j) => j.done >= 16);
    expectResponsive('embed (cancelled)', cancelled, 'cancelled');
    expect(cancelled.cancelMs!).toBeLessThan(1000);
  });

  it('train on 200 photos, cancelled after three steps: it stops stepping within a second', async () => {
    const overrides = { batchSize: 8, globalSize: 32, localSize: 16, imgSize: 32, nLocal: 2, outDim: 256, hiddenDim: 128 };
    const w = await watch(() => api('train:start', { preset: 'cpu-micro', epochs: 2, overrides }), (j) => j.phase.startsWith('training') && j.done >= 3);
    expectResponsive('train', w, 'cancelled');
    expect(w.workedAfterCancelMs!).toBeLessThan(1000);
    // and then writes the checkpoint a resume starts from (it says 'cancelled' once that is on disk)
    expect(w.cancelMs!).toBeLessThan(5000);
  });

  describe('on 8000 embeddings', () => {
    let clusteringId = 0;
    beforeAll(() => {
      // photos the analysis jobs work on: files to export and vectors in 40 groups
      const bulk = join(dir, 'bulk');
      mkdirSync(bulk);
      const n = 8000;
      const dim = 64;
      const { vectors } = syntheticEmbeddings({ n, dim, clusters: 40, spread: 0.5, seed: 5 });
      const insert = catalog.db.prepare("INSERT INTO images (path, bytes, mtime_ms, status, hash) VALUES (?, 3000, 0, 'ok', ?)");
      const ids = catalog.db.transaction(() =>
        Array.from({ length: n }, (_, i) => {
          const file = join(bulk, `b${i}.jpg`);
          writeFileSync(file, Buffer.alloc(3000, i % 251));
          return Number(insert.run(file, `bulk-${i}`).lastInsertRowid);
        }),
      )();
      const model = insertModel(catalog.db, { name: 'large', arch: 'vit_small/16', patch_size: 16, dim, source: 'imported', checkpoint: 'none', config: '{}' });
      putEmbeddings(catalog.db, model, ids.map((imageId, i) => ({ imageId, hash: `bulk-${i}`, vector: row(vectors, i) })));
      catalog.db.prepare("INSERT OR REPLACE INTO settings (key, value) VALUES ('activeModel', ?)").run(JSON.stringify(model));
    });

    it('cluster (k chosen automatically), and a cancel that stops another within a second', async () => {
      const w = await watch(() => api('cluster:run', { k: 'auto' }));
      expectResponsive('cluster', w);
      clusteringId = (w.job.result as { clustering: number }).clustering;
      const again = await watch(() => api('cluster:run', { k: 'auto' }), (j) => j.phase !== 'starting' && j.phase !== 'loading embeddings');
      expectResponsive('cluster (cancelled)', again, 'cancelled');
      expect(again.cancelMs!).toBeLessThan(1000);
      expect(again.workedAfterCancelMs!).toBeLessThan(1000);
    });

    it('map, and a cancel that stops another within a second', async () => {
      expectResponsive('project', await watch(() => api('map:compute')));
      const again = await watch(() => api('map:compute'), (j) => j.phase !== 'starting');
      expectResponsive('project (cancelled)', again, 'cancelled');
      expect(again.cancelMs!).toBeLessThan(1000);
    });

    it('export (8000 files copied), and a cancel that stops another within a second', async () => {
      const to = join(dir, 'export');
      const w = await watch(() => api('export:run', { clusteringId, to, mode: 'copy' }));
      expectResponsive('export', w);
      expect((w.job.result as { exported: number }).exported).toBe(8000);
      const again = await watch(() => api('export:run', { clusteringId, to: join(dir, 'export-2'), mode: 'copy' }), (j) => j.done >= 500);
      expectResponsive('export (cancelled)', again, 'cancelled');
      expect(again.cancelMs!).toBeLessThan(1000);
      // what was copied is complete, and no manifest claims the rest
      expect(readdirSync(join(dir, 'export-2')).some((f) => f.startsWith('clusters'))).toBe(false);
    });
  });
});
