import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSkippedName, scanFolders, type ScanFs } from './scan';

describe('scanFolders', () => {
  let root: string;
  const rel = (paths: string[]): string[] => paths.map((p) => relative(root, p)).sort();

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'dino-scan-'));
    const files = [
      'a.jpg', 'b.JPEG', 'c.png', 'notes.txt', '.hidden.jpg',
      'trip/d.webp', 'trip/e.gif', 'trip/deeper/f.tif', 'trip/deeper/g.heic', 'trip/deeper/h.avif',
      '.git/objects/x.jpg', 'node_modules/pkg/y.png', '@eaDir/a.jpg/SYNOPHOTO_THUMB_XL.jpg',
      '$RECYCLE.BIN/old.jpg', '.Trash-1000/files/gone.jpg', 'System Volume Information/sys.jpg',
    ];
    for (const f of files) {
      mkdirSync(join(root, f, '..'), { recursive: true });
      writeFileSync(join(root, f), 'x');
    }
    // A loop (a folder linking to its ancestor) and a second path to a folder already scanned.
    symlinkSync(root, join(root, 'trip', 'deeper', 'loop'));
    symlinkSync(join(root, 'trip'), join(root, 'trip-again'));
    symlinkSync(join(root, 'missing.jpg'), join(root, 'broken.jpg'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('finds photos by extension, skips hidden and system folders, and ends on a symlink loop', async () => {
    const r = await scanFolders([root]);
    expect(rel(r.files.map((f) => f.path))).toEqual([
      'a.jpg', 'b.JPEG', 'c.png', 'trip/d.webp', 'trip/deeper/f.tif', 'trip/deeper/g.heic', 'trip/deeper/h.avif', 'trip/e.gif',
    ]);
    expect(r.files.find((f) => f.path.endsWith('g.heic'))?.format).toBe('heic');
    expect(r.files.every((f) => f.bytes === 1 && f.mtimeMs > 0)).toBe(true);
    // the broken link claims to be a photo: it is reported, not silently dropped
    expect(rel(r.failures.map((f) => f.path))).toEqual(['broken.jpg']);
    expect(r.failures[0]!.reason).toMatch(/not found|broken link/);
  });

  it('reports the progress it makes and stops when aborted', async () => {
    const seen: number[] = [];
    await scanFolders([root], { onProgress: (n) => seen.push(n) });
    expect(seen.at(-1)).toBe(8);
    const ac = new AbortController();
    ac.abort();
    await expect(scanFolders([root], { signal: ac.signal })).rejects.toThrow();
  });

  it('records a folder it cannot read and goes on with the rest', async () => {
    const locked = join(root, 'trip');
    // Root reads any folder, so the refusal is injected at the file-system boundary.
    const fs: ScanFs = {
      readdir: async (p) => {
        if (p === locked) throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
        return readdir(p, { withFileTypes: true });
      },
      stat: (p) => stat(p),
    };
    const r = await scanFolders([root], { fs });
    expect(rel(r.files.map((f) => f.path))).toEqual(['a.jpg', 'b.JPEG', 'c.png']);
    expect(r.unreadableDirs).toContain(locked);
    expect(r.failures).toContainEqual({ path: locked, reason: 'cannot read folder: permission denied' });
  });

  it.skipIf(process.getuid?.() === 0)('records a folder without read permission (non-root only)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dino-scan-perm-'));
    mkdirSync(join(dir, 'private'));
    writeFileSync(join(dir, 'private', 'p.jpg'), 'x');
    chmodSync(join(dir, 'private'), 0);
    try {
      const r = await scanFolders([dir]);
      expect(r.failures.map((f) => f.reason)).toEqual(['cannot read folder: permission denied']);
    } finally {
      chmodSync(join(dir, 'private'), 0o755);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names what it skips', () => {
    expect(isSkippedName('.git')).toBe(true);
    expect(isSkippedName('@eaDir')).toBe(true);
    expect(isSkippedName('$Recycle.Bin')).toBe(true);
    expect(isSkippedName('Holidays 2023')).toBe(false);
  });
});
