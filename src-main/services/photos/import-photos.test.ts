import { existsSync, mkdirSync, readdirSync, readFileSync, mkdtempSync, rmSync, statSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImportResult, JobDTO } from '../../../src-shared/api';
import { countByStatus, getImage, listFailures } from '../../db/repos/images';
import { makeBombPng, makePhoto } from '../../testing/test-photos';
import { thumbPath } from '../../library/thumb-store';
import { openCatalog, type Catalog } from '../catalog/catalog';
import { fullImage, thumbnailPath } from './photo-files';
import { startImport } from '../jobs/start-jobs';

const GOOD = ['a.jpg', 'b.png', 'trip/c.webp', 'trip/d.gif', 'trip/e.tif', 'trip/deep/f.avif', 'trip/deep/g.jpeg'] as const;
const HEIC = 'phone/IMG_0001.HEIC';
const BAD = ['zero.jpg', 'trip/truncated.jpg', 'notes.jpg', 'bomb.png', 'broken-link.jpg'] as const;

const N_GOOD = GOOD.length + 1; // + the HEIC

describe('import pipeline', () => {
  let base: string;
  let photos: string;
  let catalog: Catalog;
  const p = (rel: string): string => join(photos, rel);
  const idOf = (rel: string): number =>
    (catalog.db.prepare('SELECT id FROM images WHERE path = ?').get(p(rel)) as { id: number }).id;

  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), 'dino-import-'));
    photos = join(base, 'photos');
    const formats = ['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif', 'jpeg'] as const;
    for (const [i, rel] of GOOD.entries()) {
      mkdirSync(join(p(rel), '..'), { recursive: true });
      writeFileSync(p(rel), await makePhoto(formats[i]!, i + 1, 120, 80));
    }
    mkdirSync(p('phone'));
    writeFileSync(p(HEIC), readFileSync(join(import.meta.dirname, '..', '..', 'library', 'fixtures', 'gradient-64x48.heic')));
    writeFileSync(p('zero.jpg'), '');
    writeFileSync(p('trip/truncated.jpg'), (await makePhoto('jpeg', 99, 300, 200)).subarray(0, 400));
    writeFileSync(p('notes.jpg'), 'these are not pixels\n');
    writeFileSync(p('bomb.png'), makeBombPng(30000, 30000));
    symlinkSync(p('nowhere.jpg'), p('broken-link.jpg'));
    mkdirSync(p('.git'));
    writeFileSync(p('.git/hidden.jpg'), await makePhoto('jpeg', 50));
    catalog = openCatalog(join(base, 'catalog'));
  });
  afterAll(async () => {
    await catalog.close();
    rmSync(base, { recursive: true, force: true });
  });

  async function run(): Promise<{ result: ImportResult; phases: string[]; changed: number }> {
    const phases: string[] = [];
    const onProgress = (j: JobDTO): void => {
      if (j.kind === 'import' && phases.at(-1) !== j.phase) phases.push(j.phase);
    };
    let changed = 0;
    const onChanged = (): void => void changed++;
    catalog.jobs.on('progress', onProgress);
    catalog.events.on('library:changed', onChanged);
    try {
      const result = await startImport(catalog, [photos]).promise;
      return { result, phases, changed };
    } finally {
      catalog.jobs.off('progress', onProgress);
      catalog.events.off('library:changed', onChanged);
    }
  }

  it('imports every good photo and lists every bad file with its reason', async () => {
    const { result, phases, changed } = await run();
    expect(result).toMatchObject({ imported: N_GOOD, unchanged: 0, updated: 0, removed: 0 });
    expect(result.failed.map((f) => f.path).sort()).toEqual(BAD.map(p).sort());
    const reason = (rel: string): string => result.failed.find((f) => f.path === p(rel))!.reason;
    expect(reason('zero.jpg')).toBe('empty file (0 bytes)');
    expect(reason('trip/truncated.jpg')).toMatch(/truncated|damaged|cannot decode/);
    expect(reason('notes.jpg')).toMatch(/not an image/);
    expect(reason('bomb.png')).toMatch(/too many pixels/);
    expect(reason('broken-link.jpg')).toMatch(/broken link/);
    // progress is throttled, so a quick scan may not show; the order never changes
    expect(phases.at(-1)).toBe('importing');
    expect(phases.join(',')).toMatch(/^starting,(scanning,)?importing$/);
    expect(changed).toBe(1);
    expect(countByStatus(catalog.db)).toEqual({ ok: N_GOOD, failed: BAD.length, gone: 0 });
    expect(listFailures(catalog.db).map((f) => f.path).sort()).toEqual(BAD.map(p).sort());
    for (const rel of GOOD) {
      const row = getImage(catalog.db, idOf(rel))!;
      expect(row).toMatchObject({ status: 'ok', width: 120, height: 80, error: null });
      expect(row.hash).toMatch(/^[0-9a-f]{64}$/);
      const thumb = await sharp(thumbPath(catalog.paths.thumbs, row.id)).metadata();
      expect([thumb.format, thumb.width]).toEqual(['jpeg', 120]);
    }
    expect(getImage(catalog.db, idOf(HEIC))).toMatchObject({ status: 'ok', width: 64, height: 48 });
    // the job's temporary thumbnails were all moved into place
    expect(readdirSync(join(catalog.paths.thumbs, '.tmp'))).toEqual([]);
  });

  it('re-imports incrementally: unchanged skipped, changed re-read, deleted marked gone', async () => {
    const again = await run();
    expect(again.result).toMatchObject({ imported: 0, unchanged: N_GOOD, updated: 0, removed: 0 });
    expect(again.result.failed).toHaveLength(BAD.length);

    // Embeddings of a photo whose content changes, or whose file goes, must not survive.
    catalog.db.prepare("INSERT INTO models (id, name, arch, patch_size, dim, source, checkpoint) VALUES (1, 'm', 'vit_tiny', 16, 4, 'trained', 'x')").run();
    const addEmbedding = catalog.db.prepare("INSERT INTO embeddings (model_id, image_id, hash, vector) VALUES (1, ?, 'h', x'00')");
    const changedId = idOf('a.jpg');
    const goneId = idOf('trip/c.webp');
    const keptId = idOf('b.png');
    for (const id of [changedId, goneId, keptId]) addEmbedding.run(id);
    const oldHash = getImage(catalog.db, changedId)!.hash;

    writeFileSync(p('a.jpg'), await makePhoto('jpeg', 77, 90, 60));
    const later = new Date(statSync(p('a.jpg')).mtimeMs + 5000);
    utimesSync(p('a.jpg'), later, later);
    unlinkSync(p('trip/c.webp'));
    writeFileSync(p('notes.jpg'), await makePhoto('jpeg', 78)); // a failed file fixed: imported now

    const { result } = await run();
    expect(result).toMatchObject({ imported: 1, unchanged: N_GOOD - 2, updated: 1, removed: 1 });
    expect(result.failed).toHaveLength(BAD.length - 1);
    const changed = getImage(catalog.db, changedId)!;
    expect(changed).toMatchObject({ status: 'ok', width: 90, height: 60 });
    expect(changed.hash).not.toBe(oldHash);
    expect(getImage(catalog.db, goneId)!.status).toBe('gone');
    const embedded = (catalog.db.prepare('SELECT image_id FROM embeddings ORDER BY image_id').all() as { image_id: number }[]).map((r) => r.image_id);
    expect(embedded).toEqual([keptId]);
    expect(countByStatus(catalog.db)).toEqual({ ok: N_GOOD, failed: BAD.length - 1, gone: 1 });

    // The file comes back unchanged (a disk plugged in again): good again, without being re-read.
    writeFileSync(p('trip/c.webp'), 'x');
    const row = getImage(catalog.db, goneId)!;
    catalog.db.prepare('UPDATE images SET bytes = 1, mtime_ms = ? WHERE id = ?').run(Math.trunc(statSync(p('trip/c.webp')).mtimeMs), goneId);
    const back = await run();
    expect(back.result).toMatchObject({ imported: 0, updated: 0, unchanged: N_GOOD + 1, removed: 0 });
    expect(getImage(catalog.db, goneId)).toMatchObject({ status: 'ok', hash: row.hash });
  });

  it('refuses a missing folder with a plain error before any job starts', () => {
    const before = catalog.jobs.list().length;
    expect(() => startImport(catalog, [join(base, 'no-such-folder')])).toThrow(`Folder not found: ${join(base, 'no-such-folder')}`);
    expect(() => startImport(catalog, [p('a.jpg')])).toThrow(/Not a folder/);
    expect(catalog.jobs.list().length).toBe(before);
  });

  it('stops when cancelled and keeps what it finished', async () => {
    const more = join(base, 'more');
    mkdirSync(more);
    for (let i = 0; i < 40; i++) writeFileSync(join(more, `m${i}.png`), await makePhoto('png', 200 + i, 64, 64));
    const job = startImport(catalog, [more], { concurrency: 2 });
    // The job's own counter is polled (progress events are throttled), so the cancel lands mid-way.
    const poll = setInterval(() => {
      if ((catalog.jobs.get(job.id)?.counts.done ?? 0) >= 3) catalog.jobs.cancel(job.id);
    }, 1);
    job.promise.finally(() => clearInterval(poll)).catch(() => undefined);
    await expect(job.promise).rejects.toThrow(/cancelled/);
    expect(catalog.jobs.get(job.id)!.state).toBe('cancelled');
    const kept = (catalog.db.prepare("SELECT COUNT(*) AS n FROM images WHERE path LIKE ? AND status = 'ok'").get(`${more}/%`) as { n: number }).n;
    expect(kept).toBeGreaterThanOrEqual(3);
    expect(kept).toBeLessThan(40);
    // every kept photo has its thumbnail: the database and the thumbs folder agree
    const ids = (catalog.db.prepare('SELECT id FROM images WHERE path LIKE ?').all(`${more}/%`) as { id: number }[]).map((r) => r.id);
    for (const id of ids) expect(existsSync(thumbPath(catalog.paths.thumbs, id))).toBe(true);
    const resumed = await startImport(catalog, [more]).promise;
    expect(resumed.imported + resumed.unchanged).toBe(40);
    expect(resumed.unchanged).toBe(kept);
  });

  it('serves photos by id: thumbnail remade when missing, browser bytes, nothing for bad ids', async () => {
    const id = idOf('b.png');
    const file = thumbPath(catalog.paths.thumbs, id);
    rmSync(file);
    expect(await thumbnailPath(catalog, id)).toBe(file);
    expect((await sharp(file).metadata()).format).toBe('jpeg');
    const png = await fullImage(catalog, id);
    expect(png?.contentType).toBe('image/png');
    // shown as it is: the file itself, to be streamed
    expect(png).toMatchObject({ file: join(photos, 'b.png'), size: statSync(join(photos, 'b.png')).size });
    const tiff = await fullImage(catalog, idOf('trip/e.tif'));
    expect(tiff?.contentType).toBe('image/jpeg');
    expect(tiff && 'bytes' in tiff && (await sharp(tiff.bytes).metadata()).format).toBe('jpeg');
    const heic = await fullImage(catalog, idOf(HEIC));
    expect(heic?.contentType).toBe('image/jpeg');
    // an empty thumbnail (a write a power cut cut short) is made again, not served
    writeFileSync(file, '');
    expect(await thumbnailPath(catalog, id)).toBe(file);
    expect(statSync(file).size).toBeGreaterThan(0);
    expect(await thumbnailPath(catalog, idOf('bomb.png'))).toBeNull();
    expect(await fullImage(catalog, idOf('zero.jpg'))).toBeNull();
    expect(await thumbnailPath(catalog, 987654)).toBeNull();
    expect(await fullImage(catalog, 987654)).toBeNull();
  });
});
