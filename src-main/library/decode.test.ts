import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecodeError, decodeRgb, openImage, toBrowserJpeg } from './decode';
import { normaliseExifDate, readTakenAt } from './exif';
import { hashBytes, hashFile } from './hash';
import { ingestFile } from './ingest';
import { makeBombPng, makePhoto } from '../testing/test-photos';
import { renderThumbnail } from './thumbnail';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'dino-decode-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function reasonFor(input: Buffer | string): Promise<string> {
  try {
    const img = await openImage(input);
    await renderThumbnail(img);
  } catch (e) {
    expect(e).toBeInstanceOf(DecodeError);
    return (e as Error).message;
  }
  throw new Error('expected the photo to be refused');
}

describe('decode', () => {
  it('applies EXIF orientation: a 40x20 JPEG tagged "rotate 90" reads as 20x40', async () => {
    const jpeg = await sharp({ create: { width: 40, height: 20, channels: 3, background: '#f00' } })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const raw = await sharp(jpeg).metadata();
    expect([raw.width, raw.height, raw.orientation]).toEqual([40, 20, 6]);
    const img = await openImage(jpeg);
    expect([img.probe.width, img.probe.height]).toEqual([20, 40]);
    const thumb = await sharp(await renderThumbnail(img)).metadata();
    expect([thumb.width, thumb.height]).toEqual([20, 40]);
    const file = join(dir, 'o6.jpg');
    writeFileSync(file, jpeg);
    const rgb = await decodeRgb(file, 100);
    expect([rgb.width, rgb.height, rgb.data.length]).toEqual([20, 40, 20 * 40 * 3]);
  });

  it('decodes every supported format, and thumbnails fit 256 px without enlarging', async () => {
    for (const f of ['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif'] as const) {
      const img = await openImage(await makePhoto(f, 7, 600, 300));
      expect(img.probe.format).toBe(f);
      const t = await sharp(await renderThumbnail(img)).metadata();
      expect([t.format, t.width, t.height]).toEqual(['jpeg', 256, 128]);
    }
    const small = await sharp(await renderThumbnail(await openImage(await makePhoto('png', 1, 40, 30)))).metadata();
    expect([small.width, small.height]).toEqual([40, 30]);
  });

  it('gives the trainer RGB: greyscale expanded, alpha flattened onto white, size capped', async () => {
    const grey = join(dir, 'grey.png');
    await sharp(Buffer.alloc(300, 0x40), { raw: { width: 30, height: 10, channels: 1 } }).toColourspace('b-w').png().toFile(grey);
    expect((await sharp(grey).metadata()).channels).toBe(1);
    const g = await decodeRgb(grey, 15);
    expect([g.width, g.height, g.data.length]).toEqual([15, 5, 15 * 5 * 3]);
    expect([g.data[0], g.data[1], g.data[2]]).toEqual([0x40, 0x40, 0x40]);
    const clear = join(dir, 'clear.png');
    await sharp({ create: { width: 8, height: 8, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } }).png().toFile(clear);
    const c = await decodeRgb(clear, 64);
    expect([c.width, c.data.length, c.data[0], c.data[1], c.data[2]]).toEqual([8, 8 * 8 * 3, 255, 255, 255]);
  });

  it('refuses a decompression bomb on its header, with the reason', async () => {
    const bomb = makeBombPng(30000, 30000);
    expect(bomb.length).toBeLessThan(200_000);
    const t0 = performance.now();
    expect(await reasonFor(bomb)).toMatch(/too many pixels: 30000 x 30000 = 900 MP, over the 100 MP limit/);
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  it('refuses empty, truncated, non-image and disguised files, each with a reason', async () => {
    const good = await makePhoto('jpeg', 3, 400, 300);
    expect(await reasonFor(Buffer.alloc(0))).toBe('empty file (0 bytes)');
    const zero = join(dir, 'zero.jpg');
    writeFileSync(zero, '');
    expect(await reasonFor(zero)).toBe('empty file (0 bytes)');
    expect(await reasonFor(good.subarray(0, Math.floor(good.length * 0.6)))).toMatch(/^truncated or damaged file/);
    expect(await reasonFor(Buffer.from('just some text, named .jpg\n'))).toMatch(/not an image/);
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"><rect width="9" height="9"/></svg>');
    expect(await reasonFor(svg)).toMatch(/not a photo format this app imports \(the file is SVG\)/);
    expect(await reasonFor(Buffer.from('....ftypheic not really a heic file'))).toMatch(/not an image|cannot decode/);
  });

  it('decodes HEVC-coded HEIC through the wasm decoder when sharp cannot', async () => {
    const heic = join(import.meta.dirname, 'fixtures', 'gradient-64x48.heic');
    const img = await openImage(heic);
    expect(img.probe).toMatchObject({ format: 'heic', width: 64, height: 48 });
    const rgb = await decodeRgb(heic, 32);
    expect([rgb.width, rgb.height]).toEqual([32, 24]);
    // top row red, bottom row blue: the gradient survived the trip
    const top = [rgb.data[0]!, rgb.data[2]!];
    const bottom = [rgb.data[(23 * 32) * 3]!, rgb.data[(23 * 32) * 3 + 2]!];
    expect(top[0]).toBeGreaterThan(200);
    expect(bottom[1]).toBeGreaterThan(200);
    const view = await sharp(await toBrowserJpeg(heic)).metadata();
    expect([view.format, view.width, view.height]).toEqual(['jpeg', 64, 48]);
  });

  it('converts TIFF to a browser JPEG, capped in size', async () => {
    const jpeg = await toBrowserJpeg(await makePhoto('tiff', 2, 300, 200), 150);
    const m = await sharp(jpeg).metadata();
    expect([m.format, m.width, m.height]).toEqual(['jpeg', 150, 100]);
  });
});

describe('exif, hash and ingest', () => {
  it('reads taken-at as local wall-clock text', async () => {
    const tagged = await sharp(await makePhoto('jpeg', 1)).withExif({ IFD2: { DateTimeOriginal: '2021:07:04 18:30:05' } }).jpeg().toBuffer();
    expect(await readTakenAt(tagged)).toBe('2021-07-04T18:30:05');
    expect(await readTakenAt(await makePhoto('jpeg', 1))).toBeNull();
    expect(await readTakenAt(Buffer.from('not an image'))).toBeNull();
    expect(normaliseExifDate('0000:00:00 00:00:00')).toBeNull();
    expect(normaliseExifDate('2020:02:29 23:59:59')).toBe('2020-02-29T23:59:59');
  });

  it('hashes the same bytes the same way in memory and streamed', async () => {
    const bytes = await makePhoto('png', 9);
    const file = join(dir, 'h.png');
    writeFileSync(file, bytes);
    expect(await hashFile(file)).toBe(hashBytes(bytes));
    expect(hashBytes(bytes)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashBytes(await makePhoto('png', 10))).not.toBe(hashBytes(bytes));
  });

  it('ingests a photo: hash, oriented size, taken-at and thumbnail', async () => {
    const bytes = await sharp(await makePhoto('jpeg', 4, 600, 400)).withExif({ IFD2: { DateTimeOriginal: '2019:12:31 08:00:00' } }).withMetadata({ orientation: 8 }).jpeg().toBuffer();
    const file = join(dir, 'i.jpg');
    writeFileSync(file, bytes);
    const r = await ingestFile(file, bytes.length);
    expect(r).toMatchObject({ hash: hashBytes(bytes), width: 400, height: 600, takenAt: '2019-12-31T08:00:00', format: 'jpeg' });
    const t = await sharp(r.thumbnail).metadata();
    expect([t.width, t.height]).toEqual([171, 256]);
  });
});
