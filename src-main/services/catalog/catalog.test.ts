/**
 * A catalog opened twice, by this process and by another one; a process killed with -9 in the
 * middle of a training run or an import; a damaged database; an upgrade. Each is made here, and
 * the next opener must say what happened or put it right.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { backupPath } from '../../db/open';
import { getRun } from '../../db/repos/training';
import { makePhoto } from '../../testing/test-photos';
import { CatalogDamagedError, CatalogLockedError, openCatalog } from './catalog';
import { thumbnailPath } from '../photos/photo-files';
import { repoRoot } from '../../testing/repo-root';
import { startImport } from '../jobs/start-jobs';

const bin = join(repoRoot, 'bin', 'dino-explorer.js');
const tmp = mkdtempSync(join(tmpdir(), 'dino-catalog-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

/** A process that opens the catalog, starts a training run there, says so, and waits to be killed. */
function holder(dir: string): Promise<ChildProcess> {
  const script = `
    import(${JSON.stringify(join(import.meta.dirname, 'catalog.ts'))}).then(async ({ openCatalog }) => {
      const { createRun } = await import(${JSON.stringify(join(import.meta.dirname, '..', '..', 'db', 'repos', 'training.ts'))});
      const c = openCatalog(${JSON.stringify(dir)}, { face: 'the test holder' });
      createRun(c.db, 'cpu-micro', {});
      process.stdout.write('holding\\n');
      setInterval(() => undefined, 1000);
    });`;
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((ok, fail) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('holding') && ok(child));
    child.on('exit', (code) => fail(new Error(`holder exited with ${code}`)));
  });
}

/** What opening the catalog in `dir` throws (undefined when it opens). */
function refusal(dir: string): unknown {
  try {
    openCatalog(dir);
  } catch (e) {
    return e;
  }
  return undefined;
}

async function killed(child: ChildProcess): Promise<void> {
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await gone;
}

describe('one writer per catalog', () => {
  it('refuses a second writer in this process, saying who holds it; readers still read', async () => {
    const dir = join(tmp, 'twice');
    const first = openCatalog(dir, { face: 'the first opener' });
    try {
      first.db.prepare("INSERT INTO settings (key, value) VALUES ('x', '1')").run();
      const err = refusal(dir);
      expect(err).toBeInstanceOf(CatalogLockedError);
      expect((err as Error).message).toMatch(new RegExp(`open in the first opener \\(process ${process.pid}, since .*\\).*commands that only read`));
      const reader = openCatalog(dir, { readOnly: true });
      try {
        expect(reader.readOnly).toBe(true);
        expect(reader.db.prepare("SELECT value FROM settings WHERE key = 'x'").pluck().get()).toBe('1');
        expect(() => reader.db.prepare("INSERT INTO settings (key, value) VALUES ('y', '2')").run()).toThrow(/readonly/);
      } finally {
        await reader.close();
      }
    } finally {
      await first.close();
    }
    // closed: the next writer gets it
    const again = openCatalog(dir);
    expect(again.readOnly).toBe(false);
    await again.close();
  });

  it('refuses a writer while another process holds it; the lock goes with that process, kill -9 included, and its run is marked interrupted', async () => {
    const dir = join(tmp, 'two-processes');
    await openCatalog(dir).close();
    const child = await holder(dir);
    expect(() => openCatalog(dir)).toThrow(new RegExp(`open in the test holder \\(process ${child.pid}, since`));
    // a read-only command works meanwhile, and sees the holder's run as it is
    const reader = openCatalog(dir, { readOnly: true });
    expect(getRun(reader.db, 1)?.state).toBe('running');
    await reader.close();
    await killed(child);
    const after = openCatalog(dir);
    try {
      expect(after.recovered.interruptedRuns).toBe(1);
      expect(getRun(after.db, 1)).toMatchObject({ state: 'interrupted' });
      expect(getRun(after.db, 1)!.ended_at).toBeTruthy();
    } finally {
      await after.close();
    }
  });
});

describe('what a killed import leaves behind', () => {
  it('sweeps thumbs/.tmp at the next open, and the import then completes, every photo with its thumbnail', async () => {
    const dir = join(tmp, 'killed-import');
    const photos = join(tmp, 'photos');
    mkdirSync(photos, { recursive: true });
    for (let i = 0; i < 150; i++) writeFileSync(join(photos, `p${i}.jpg`), await makePhoto('jpeg', i, 640, 480));
    await openCatalog(dir).close();
    const child = spawn(process.execPath, [bin, 'import', photos, '--catalog', dir, '--json'], { stdio: 'ignore' });
    children.push(child);
    // kill -9 once it has written some photos (read from the database as the import fills it)
    const db = new Database(join(dir, 'catalog.sqlite'), { readonly: true });
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && (db.prepare('SELECT count(*) FROM images').pluck().get() as number) < 10) await new Promise((r) => setTimeout(r, 20));
    db.close();
    await killed(child);
    const tmpThumbs = join(dir, 'thumbs', '.tmp');
    expect(readdirSync(tmpThumbs)).toHaveLength(1); // the dead job's folder

    const c = openCatalog(dir);
    try {
      expect(existsSync(tmpThumbs)).toBe(false);
      const r = await startImport(c, [photos]).promise;
      expect(r.imported + r.unchanged + r.updated).toBe(150);
      const ids = c.db.prepare("SELECT id FROM images WHERE status = 'ok'").pluck().all() as number[];
      expect(ids).toHaveLength(150);
      // every photo has its thumbnail: written by the import, or (where the kill fell between a batch's
      // commit and its renames) made again from the photo when first asked for
      for (const id of ids) expect(statSync((await thumbnailPath(c, id))!).size).toBeGreaterThan(0);
      // the finished import took its own folder away
      expect(readdirSync(tmpThumbs)).toEqual([]);
    } finally {
      await c.close();
    }
  });
});

describe('damage and upgrades', () => {
  it('finds a damaged page at open and says what to do', async () => {
    const dir = join(tmp, 'damaged');
    const c = openCatalog(dir);
    const insert = c.db.prepare("INSERT INTO images (path, bytes, mtime_ms, status) VALUES (?, 1, 0, 'ok')");
    c.db.transaction(() => {
      for (let i = 0; i < 3000; i++) insert.run(`/photos/some/long/folder/name/IMG_${String(i).padStart(6, '0')}.jpg`);
    })();
    c.db.pragma('wal_checkpoint(TRUNCATE)');
    await c.close();
    // scribble over a page in the middle of the images table (not the header: that would not even open)
    const file = join(dir, 'catalog.sqlite');
    const pages = statSync(file).size / 4096;
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, Math.floor(pages / 2) * 4096);
    closeSync(fd);
    const err = refusal(dir);
    expect(err).toBeInstanceOf(CatalogDamagedError);
    expect((err as Error).message).toMatch(/catalog\.sqlite is damaged \(.+\)\. Your photos are untouched.*move catalog\.sqlite aside and import your folders again/);
    // and the lock was let go: the user can act on the message at once
    rmSync(file);
    await openCatalog(dir).close();
  });

  it('keeps a copy of the catalog as it was before a migration', async () => {
    const dir = join(tmp, 'upgrade');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'catalog.sqlite');
    // a catalog at schema 30 (the last before 040) with one embedding
    const old = new Database(file);
    const { migrations } = await import('../../db/migrations');
    for (const m of migrations.filter((x) => x.version <= 30)) old.exec(m.up);
    old.pragma('user_version = 30');
    old.exec("INSERT INTO images (id, path, bytes, mtime_ms, status, hash) VALUES (1, '/a.jpg', 1, 0, 'ok', 'h')");
    old.exec("INSERT INTO models (id, name, arch, patch_size, dim, source, checkpoint) VALUES (1, 'm', 'vit_tiny', 16, 2, 'trained', 'x')");
    old.exec("INSERT INTO embeddings (model_id, image_id, hash, vector) VALUES (1, 1, 'h', x'0000803f00000000')");
    old.close();
    const c = openCatalog(dir);
    try {
      expect(c.db.prepare('SELECT count(*) FROM embeddings WHERE version IS NOT NULL').pluck().get()).toBe(1);
    } finally {
      await c.close();
    }
    const copy = new Database(backupPath(file, 30), { readonly: true });
    expect(copy.pragma('user_version', { simple: true })).toBe(30);
    expect(copy.prepare('SELECT count(*) FROM embeddings').pluck().get()).toBe(1);
    copy.close();
  });
});
