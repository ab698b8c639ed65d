import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCatalog, type Catalog } from '../catalog/catalog';
import { embedCatalog } from '../embedding/catalog-embedding';
import { embedPhoto } from '../embedding/photo-embedding';
import { warmEmbedder } from '../embedding/warm-embedder';
import { attentionOf } from './attention-maps';
import { writeAttentionPngs } from './attention-png';
import { findDuplicates } from './find-duplicates';
import { searchByVector } from './similar-photos';
import { addModel } from '../models/add-model';
import { repoRoot } from '../../testing/repo-root';
import { startImport } from '../jobs/start-jobs';

// Search with a photo from outside the catalog, through the real embedder (a small random ViT in the
// official layout, so the test needs no training), and near-duplicates of a resized copy.
const weights = join(repoRoot, 'src-main/dino/weights/fixtures/vit_p16_full_checkpoint.pth');
const samples = join(repoRoot, 'resources/sample-photos/caltech-101');

describe('search with a photo', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dino-search-photo-'));
  const photos = join(dir, 'photos');
  let catalog: Catalog;
  let model: number;
  const original = join(photos, 'llama', 'image_0001.jpg');

  beforeAll(async () => {
    cpSync(samples, photos, { recursive: true });
    // a resized copy (2/3 size, re-encoded) of one photo, beside the original
    await sharp(original).resize({ width: 150 }).jpeg({ quality: 80 }).toFile(join(photos, 'llama', 'copy-small.jpg'));
    catalog = openCatalog(join(dir, 'catalog'));
    await startImport(catalog, [photos]).promise;
    model = (await addModel(catalog, weights)).model;
    await embedCatalog(catalog, model);
  }, 300_000);

  afterAll(async () => {
    await catalog.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds the byte-identical catalog photo first, with similarity 1', async () => {
    const outside = join(dir, 'query.jpg');
    cpSync(original, outside);
    const vector = (await embedPhoto(catalog, model, outside)).vector;
    const results = await searchByVector(catalog, vector, { k: 5, modelId: model });
    expect(results[0]!.path).toBe(original);
    expect(results[0]!.similarity).toBeCloseTo(1, 5);
    expect(results[1]!.similarity).toBeLessThan(results[0]!.similarity);
  }, 120_000);

  it('draws the last block attention of a photo as one PNG per head and their mean', async () => {
    const a = await attentionOf(catalog, model, original);
    expect(a.heads).toHaveLength(3);
    expect(a.heads[0]).toHaveLength(a.grid * a.grid);
    // softmax rows: each head's attention over [CLS] and the patches sums to 1, so over patches to <= 1
    for (const h of a.heads) expect(h.reduce((s, x) => s + x, 0)).toBeLessThanOrEqual(1 + 1e-5);
    const files = await writeAttentionPngs(original, a.heads, a.grid, join(dir, 'attention'));
    expect(files.map((f) => f.split('/').pop())).toEqual(['head-1.png', 'head-2.png', 'head-3.png', 'mean.png']);
    const meta = await sharp(original).metadata();
    const png = await sharp(files[3]!).stats();
    expect((await sharp(files[3]!).metadata()).width).toBe(meta.width);
    expect(png.channels.reduce((s, c) => s + c.stdev, 0)).toBeGreaterThan(1);
  }, 120_000);

  it('groups a resized copy with its original as near-duplicates', async () => {
    // this random-weight model puts unrelated photos up to ~0.95 apart, the copy at ~0.9998
    const groups = await findDuplicates(catalog, { modelId: model, threshold: 0.99 });
    const ids = catalog.db.prepare('SELECT id, path FROM images').all() as { id: number; path: string }[];
    const idOf = (p: string) => ids.find((r) => r.path === p)!.id;
    const pair = groups.find((g) => g.some((x) => x.id === idOf(original)));
    expect(pair?.map((x) => x.id).sort((a, b) => a - b)).toEqual([idOf(original), idOf(join(photos, 'llama', 'copy-small.jpg'))].sort((a, b) => a - b));
    expect(groups).toHaveLength(1);
  }, 120_000);

  describe('the warm embedder', () => {
    const until = async (what: () => boolean, ms = 20_000): Promise<void> => {
      for (const end = Date.now() + ms; !what() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 20));
      expect(what()).toBe(true);
    };

    it('serves a second search and the attention maps from the thread and model of the first, as a thread of their own would', async () => {
      const warm = warmEmbedder(catalog);
      const first = (await embedPhoto(catalog, model, original)).vector;
      const thread = warm.thread;
      expect(thread).not.toBeNull();
      const started = warm.started;
      const second = (await embedPhoto(catalog, model, join(photos, 'llama', 'copy-small.jpg'))).vector;
      expect(await attentionOf(catalog, model, original)).toMatchObject({ grid: expect.any(Number) });
      expect(warm.thread).toBe(thread);
      expect(warm.started).toBe(started);
      const fresh = (await embedPhoto(catalog, model, original, { fresh: true })).vector;
      expect(Math.max(...first.map((x, i) => Math.abs(x - fresh[i]!)))).toBeLessThan(1e-6);
      expect(second).not.toEqual(first);
      await expect(embedPhoto(catalog, model, join(dir, 'no-such-photo.jpg'))).rejects.toThrow(/Cannot read/);
      expect(warm.thread).toBe(thread);
    }, 120_000);

    it('releases its thread when idle, for another model, and when the catalog closes', async () => {
      const warm = warmEmbedder(catalog);
      warm.release();
      await until(() => warm.ended === warm.started);
      warm.idleMs = 300;
      await embedPhoto(catalog, model, original);
      expect(warm.thread).not.toBeNull();
      await until(() => warm.thread === null && warm.ended === warm.started);
      warm.idleMs = 60_000;
      const other = (await addModel(catalog, weights)).model;
      await embedPhoto(catalog, model, original);
      const thread = warm.thread;
      const ended = warm.ended;
      await embedPhoto(catalog, other, original);
      expect(warm.thread).not.toBe(thread);
      await until(() => warm.ended === ended + 1);
      await catalog.close();
      await until(() => warm.ended === warm.started);
      expect(warm.thread).toBeNull();
    }, 120_000);
  });
});
