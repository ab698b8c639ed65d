/**
 * The label-free quality in the catalog: measured on a fixed sample, the same numbers every time,
 * at a run's start and checkpoints, and stored with the model a run or an embed job ends with.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelQuality, runQuality } from '../../db/repos/quality';
import { openCatalog, type Catalog } from '../catalog/catalog';
import { modelDTOs } from '../models/model-list';
import { probeSample, scoreWeights } from './model-quality';
import { train } from '../training/training-run';
import { addModel } from '../models/add-model';
import { repoRoot } from '../../testing/repo-root';
import { startEmbed, startImport } from '../jobs/start-jobs';

const samples = join(repoRoot, 'resources', 'sample-photos');
const tinyVit = join(repoRoot, 'src-main', 'dino', 'weights', 'fixtures', 'vit_p16_full_checkpoint.pth');

describe('label-free quality of the catalog', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dino-quality-'));
  let catalog: Catalog;
  beforeAll(async () => {
    catalog = openCatalog(join(dir, 'catalog'));
    await startImport(catalog, [samples]).promise;
  });
  afterAll(async () => {
    await catalog.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('scores the raw-pixels baseline on the fixed sample, the same twice', async () => {
    const sample = probeSample(catalog);
    expect(sample.items).toHaveLength(36);
    const a = await scoreWeights('pixels', sample);
    expect(a).toMatchObject({ sample: 36, views: 36, dim: 16 * 16 * 3 });
    expect(a.retrieval).toBeGreaterThan(1 / 71);
    expect(a.retrieval).toBeLessThanOrEqual(1);
    expect(a.rankme).toBeGreaterThan(1);
    expect(a.rankme).toBeLessThanOrEqual(36);
    expect(await scoreWeights('pixels', sample)).toEqual(a);
    await expect(scoreWeights('pixels', { items: sample.items.slice(0, 1), views: 1 })).rejects.toThrow(/at least 2 photos/);
  });

  it('a run is scored at its start and at its end, and its model keeps the end score', async () => {
    const overrides = { batchSize: 8, globalSize: 32, localSize: 16, imgSize: 32, nLocal: 2, outDim: 256, hiddenDim: 128 };
    const r = await train(catalog, { preset: 'cpu-micro', epochs: 1, overrides, maxSteps: 2, embed: false });
    const curve = runQuality(catalog.db, r.run);
    expect(curve.map((q) => q.step)).toEqual([0, 2]);
    for (const q of curve) expect(q).toMatchObject({ sample: 36, views: 36, dim: 192 });
    expect(r.quality).toEqual({ rankme: curve[1]!.rankme, retrieval: curve[1]!.retrieval, sample: 36, views: 36, dim: 192 });
    expect(modelQuality(catalog.db, r.model)).toEqual(r.quality);
    // from scratch nothing is kept but the end, and nothing needs saying
    expect(r.kept).toBeUndefined();
    expect(r.note).toBeNull();
    expect(modelDTOs(catalog).find((m) => m.id === r.model)!.quality).toEqual(r.quality);
  });

  it('an embed job scores a model that has no score yet, once', async () => {
    const added = await addModel(catalog, tinyVit);
    expect(modelQuality(catalog.db, added.model)).toBeNull();
    const first = await startEmbed(catalog, added.model).promise;
    expect(first.quality).toMatchObject({ sample: 36, views: 36, dim: 48 });
    expect(modelQuality(catalog.db, added.model)).toEqual(first.quality);
    // nothing changed: the stored score is reused
    const again = await startEmbed(catalog, added.model).promise;
    expect(again.quality).toEqual(first.quality);
  });
});
