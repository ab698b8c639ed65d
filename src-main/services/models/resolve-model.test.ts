import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { putEmbeddings } from '../../db/repos/embeddings';
import { upsertImages } from '../../db/repos/images';
import { insertModel } from '../../db/repos/models';
import { getSetting } from '../../db/repos/settings';
import { openCatalog } from '../catalog/catalog';
import { activeModelId, resolveModel, setActiveModel } from './resolve-model';

const dir = mkdtempSync(join(tmpdir(), 'resolve-model-'));
const catalog = openCatalog(dir);
afterAll(async () => {
  await catalog.close();
  rmSync(dir, { recursive: true, force: true });
});

const model = (name: string) => insertModel(catalog.db, { name, arch: 'vit_tiny/16', patch_size: 16, dim: 2, source: 'trained', checkpoint: `${name}.safetensors`, config: '{}' });

describe('resolveModel', () => {
  it('says what to do when the catalog has no model, or nothing embedded', () => {
    expect(() => resolveModel(catalog, undefined, 'weights')).toThrow(/no model yet: train one/);
    expect(() => resolveModel(catalog, undefined, 'embeddings')).toThrow(/No photo has been embedded yet/);
    expect(() => resolveModel(catalog, 7, 'weights')).toThrow('There is no model 7 in this catalog.');
    expect(activeModelId(catalog)).toBeNull();
  });

  it('takes the one named, else the active one, else the newest (with embeddings when those are needed)', () => {
    const embedded = model('embedded');
    const [photo] = upsertImages(catalog.db, [{ path: join(dir, 'a.jpg'), bytes: 1, mtimeMs: 0, hash: 'h', width: null, height: null, takenAt: null, status: 'ok', error: null }]);
    putEmbeddings(catalog.db, embedded, [{ imageId: photo!, hash: 'h', vector: new Float32Array([1, 0]) }]);
    const newest = model('newest');
    expect(resolveModel(catalog, undefined, 'weights').id).toBe(newest);
    expect(resolveModel(catalog, undefined, 'embeddings').id).toBe(embedded);
    expect(resolveModel(catalog, embedded, 'weights')).toMatchObject({ id: embedded, name: 'embedded', checkpoint: 'embedded.safetensors' });
    setActiveModel(catalog, embedded);
    expect(activeModelId(catalog)).toBe(embedded);
    expect(resolveModel(catalog, undefined, 'weights').id).toBe(embedded);
    expect(resolveModel(catalog, newest, 'embeddings').id).toBe(newest);
  });

  it('refuses to activate a model the catalog does not have, and ignores a stale setting', () => {
    expect(() => setActiveModel(catalog, 99)).toThrow('There is no model 99.');
    expect(getSetting(catalog.db, 'activeModel')).not.toBe(99);
    catalog.db.prepare("UPDATE settings SET value = '99' WHERE key = 'activeModel'").run();
    expect(activeModelId(catalog)).toBeNull();
    expect(resolveModel(catalog, undefined, 'weights').name).toBe('newest');
  });
});
