/**
 * The app's workers on the webgpu backend (DINO_BACKEND=webgpu; SwiftShader where there is no GPU):
 * a training job reports the adapter, pauses, resumes, is cancelled with its checkpoint kept, and
 * resumes from it; the catalog is embedded, a photo from outside is searched and attention maps are
 * drawn, all in workers on the GPU; `features` with official-format weights gives wasm's numbers.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useSoftwareGpu } from '../testing/webgpu-test-setup';
import { countEmbeddings } from '../db/repos/embeddings';
import { prepared } from '../db/repos/statements';
import { getRun, listMetrics } from '../db/repos/training';
import { openCatalog, type Catalog } from './catalog';
import { attentionOf, embedItems, embedOutsideImage } from './embedder';
import { startImport } from './importer';
import { searchByVector } from './search';
import { pauseResumeCancel, TINY } from './fixtures/train-scenario';
import { train } from './trainer';

const missing = useSoftwareGpu();
const repoRoot = resolve(import.meta.dirname, '..', '..');
const samples = join(repoRoot, 'resources', 'sample-photos', 'caltech-101');
const weights = join(repoRoot, 'src-main/dino/weights/fixtures/vit_p16_full_checkpoint.pth');


describe.skipIf(missing !== null)(`jobs on the webgpu backend${missing ? ` (skipped: ${missing})` : ''}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'dino-webgpu-jobs-'));
  let catalog: Catalog;
  const backendBefore = process.env.DINO_BACKEND;

  beforeAll(async () => {
    process.env.DINO_BACKEND = 'webgpu';
    cpSync(samples, join(dir, 'photos'), { recursive: true });
    catalog = openCatalog(join(dir, 'catalog'));
    await startImport(catalog, [join(dir, 'photos')]).promise;
  }, 120_000);

  afterAll(async () => {
    if (backendBefore === undefined) delete process.env.DINO_BACKEND;
    else process.env.DINO_BACKEND = backendBefore;
    await catalog.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('trains in a worker: pause, resume and cancel keep the checkpoint, and the run resumes from it', async () => {
    const { error, run, steps: before, pausedAt } = await pauseResumeCancel(catalog, TINY, 300);
    expect(String(error)).toMatch(/cancelled/);
    expect(pausedAt).toBeGreaterThan(0);
    expect(run.state).toBe('cancelled');
    expect(run.checkpoint).toMatch(/\.state\.safetensors$/);
    expect(JSON.parse(run.config).backend).toMatch(/^webgpu \(/);
    expect(before).toBeGreaterThanOrEqual(3);

    const resumed = await train(catalog, { resume: true, maxSteps: 1, embed: false });
    expect(resumed.run).toBe(run.id);
    expect(resumed.backend).toMatch(/^webgpu \(.*Dawn/);
    expect(resumed.steps).toBe(before + 1);
    expect(getRun(catalog.db, run.id)!.state).toBe('stopped');
    // the curve goes on where it stopped
    expect(listMetrics(catalog.db, run.id).map((m) => m.step)).toEqual(Array.from({ length: before + 1 }, (_, i) => i + 1));
  }, 300_000);

  it('embeds the catalog, searches with an outside photo and draws attention, on the GPU', async () => {
    const model = (prepared(catalog.db, 'SELECT id FROM models ORDER BY id DESC LIMIT 1').get() as { id: number }).id;
    const { embedCatalog } = await import('./embedder');
    const r = await embedCatalog(catalog, model);
    expect(r.backend).toMatch(/^webgpu \(/);
    expect(countEmbeddings(catalog.db, model)).toBe(r.embedded);
    const photo = (prepared(catalog.db, "SELECT id, path FROM images WHERE status = 'ok' ORDER BY id LIMIT 1").get() as { id: number; path: string });
    const vector = await embedOutsideImage(catalog, model, photo.path);
    const hits = await searchByVector(catalog, vector, { k: 3, modelId: model });
    expect(hits[0]!.id).toBe(photo.id);
    expect(hits[0]!.similarity).toBeCloseTo(1, 4);
    const a = await attentionOf(catalog, model, photo.id, photo.path);
    expect(a.heads.length).toBeGreaterThan(0);
    for (const h of a.heads) expect(h.reduce((s, x) => s + x, 0)).toBeLessThanOrEqual(1 + 1e-5);
  }, 300_000);

  it("gives wasm's features for official-format weights (features --weights)", async () => {
    const items = [0, 1].map((i) => ({ id: i, path: (prepared(catalog.db, 'SELECT path FROM images ORDER BY path LIMIT 1 OFFSET ?').get(i) as { path: string }).path }));
    const gpu = await embedItems(weights, items);
    process.env.DINO_BACKEND = 'wasm';
    const cpu = await embedItems(weights, items);
    process.env.DINO_BACKEND = 'webgpu';
    let worst = 0;
    for (const { id } of items) for (let j = 0; j < cpu.get(id)!.length; j++) worst = Math.max(worst, Math.abs(gpu.get(id)![j]! - cpu.get(id)![j]!));
    console.log(`features --weights ${weights.split('/').pop()}: webgpu against wasm, max |difference| ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-5);
  }, 300_000);
});
