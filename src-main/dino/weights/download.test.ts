/**
 * The downloader against a local HTTP server on 127.0.0.1 (no outside host is reachable here):
 * a normal download with progress, a redirect, a connection dropped halfway (resumed with a Range
 * request), a corrupt file (checksum error, nothing left behind), cancel, and an official name
 * fetched through DINO_WEIGHTS_BASE_URL.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChecksumError, DownloadError, PINS_FILE, download, downloadOfficial, redirectTarget, type DownloadProgress } from './download';
import { findOfficial, officialUrl, OFFICIAL_CHECKPOINTS } from './official';
import { resolveWeights } from './resolve';

const tmp = mkdtempSync(join(tmpdir(), 'dino-dl-'));
const body = Buffer.alloc(1_000_000);
for (let i = 0; i < body.length; i++) body[i] = (i * 7919 + (i >> 8)) & 0xff;
const sha = createHash('sha256').update(body).digest('hex');
const requests: { path: string; range?: string }[] = [];
let dropped = 0;
/** the official file's bytes as the test server offers them now (a later test swaps them) */
let officialBody = body;
let server: http.Server;
let base = '';

/** Serves `data` honouring a Range header; `cut` ends the connection after that many body bytes. */
function serve(req: http.IncomingMessage, res: http.ServerResponse, data: Buffer, cut?: number) {
  const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  const start = m ? Number(m[1]) : 0;
  const slice = data.subarray(start);
  res.writeHead(m ? 206 : 200, {
    'content-length': slice.length,
    ...(m ? { 'content-range': `bytes ${start}-${data.length - 1}/${data.length}` } : {}),
  });
  if (cut === undefined) return res.end(slice);
  // the connection closes mid-body: ending the socket (not destroying it) sends what was written first,
  // so the client has exactly `cut` bytes however loaded the machine is
  res.write(slice.subarray(0, cut), () => res.socket?.end());
}

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const path = req.url ?? '';
    requests.push({ path, ...(req.headers.range ? { range: req.headers.range } : {}) });
    if (path === '/ok.bin') return serve(req, res, body);
    if (path === '/moved') return res.writeHead(302, { location: '/ok.bin' }).end();
    if (path === '/drop.bin') {
      // the first two requests drop part-way; the third finishes the file
      if (dropped < 2) {
        dropped++;
        return serve(req, res, body, 300_000);
      }
      return serve(req, res, body);
    }
    if (path === '/corrupt.bin') {
      const bad = Buffer.from(body);
      bad[123_456]! ^= 0xff;
      return serve(req, res, bad);
    }
    if (path === '/slow.bin') {
      res.writeHead(200, { 'content-length': body.length });
      res.write(body.subarray(0, 1000)); // then never finishes
      return;
    }
    if (path === '/dino_deitsmall16_pretrain/dino_deitsmall16_pretrain.pth') return serve(req, res, officialBody);
    if (path === '/endless') {
      // chunked, no length announced, and no end
      res.writeHead(200);
      const chunk = Buffer.alloc(64 * 1024, 1);
      const more = (): void => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', more);
      };
      return more();
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(tmp, { recursive: true, force: true });
});

describe('download', () => {
  it('downloads with progress, verifies size and sha256, then moves the file into place', async () => {
    const seen: DownloadProgress[] = [];
    const dest = join(tmp, 'models', 'ok.pth');
    const r = await download({ url: `${base}/ok.bin`, dest, sha256: sha, expectedSize: body.length, onProgress: (p) => seen.push(p) });
    expect(r).toMatchObject({ path: dest, size: body.length, sha256: sha, attempts: 1, resumedFrom: [] });
    expect(readFileSync(dest).equals(body)).toBe(true);
    expect(existsSync(`${dest}.part`)).toBe(false);
    expect(seen.at(-1)).toEqual({ received: body.length, total: body.length });
    expect(seen.every((p, i) => i === 0 || p.received >= seen[i - 1]!.received)).toBe(true);
    await expect(download({ url: `${base}/ok.bin`, dest })).rejects.toThrow(/exists already/);
  });

  it('follows a redirect', async () => {
    const dest = join(tmp, 'moved.pth');
    await download({ url: `${base}/moved`, dest, sha256: sha });
    expect(statSync(dest).size).toBe(body.length);
  });

  it('resumes after dropped connections with Range requests and ends with the exact file', async () => {
    const dest = join(tmp, 'drop.pth');
    requests.length = 0;
    const r = await download({ url: `${base}/drop.bin`, dest, sha256: sha, retryDelayMs: 10 });
    expect(r.attempts).toBe(3);
    // each attempt resumes where the file ends: up to the 300 000 bytes each dropped connection sent
    // (the client drops what it had not yet read when the connection closed)
    expect(r.resumedFrom).toHaveLength(2);
    const [first, second] = r.resumedFrom as [number, number];
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThanOrEqual(300_000);
    expect(second).toBeGreaterThan(first);
    expect(second - first).toBeLessThanOrEqual(300_000);
    expect(requests.map((q) => q.range)).toEqual([undefined, `bytes=${first}-`, `bytes=${second}-`]);
    expect(readFileSync(dest).equals(body)).toBe(true);
  });

  it('resumes a partial file left by an earlier run', async () => {
    const dest = join(tmp, 'partial.pth');
    writeFileSync(`${dest}.part`, body.subarray(0, 123_457));
    const r = await download({ url: `${base}/ok.bin`, dest, sha256: sha });
    expect(r.resumedFrom).toEqual([123_457]);
    expect(readFileSync(dest).equals(body)).toBe(true);
  });

  it('a corrupt file fails the checksum and leaves nothing behind', async () => {
    const dest = join(tmp, 'corrupt.pth');
    const err = await download({ url: `${base}/corrupt.bin`, dest, sha256: sha }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChecksumError);
    expect((err as Error).message).toMatch(/checksum mismatch .* expected [0-9a-f]{64}; the corrupt download was deleted/);
    expect(existsSync(dest)).toBe(false);
    expect(existsSync(`${dest}.part`)).toBe(false);
  });

  it('a wrong size and an HTTP error are clear errors', async () => {
    await expect(download({ url: `${base}/ok.bin`, dest: join(tmp, 'size.pth'), expectedSize: 5 })).rejects.toThrow(/offers 1000000 bytes, expected 5/);
    await expect(download({ url: `${base}/missing.bin`, dest: join(tmp, 'missing.pth') })).rejects.toThrow(/HTTP 404/);
  });

  it('cancels with an AbortSignal and keeps the partial file for a later resume', async () => {
    const dest = join(tmp, 'slow.pth');
    const ac = new AbortController();
    const p = download({ url: `${base}/slow.bin`, dest, signal: ac.signal });
    setTimeout(() => ac.abort(), 300);
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    expect(existsSync(dest)).toBe(false);
    expect(statSync(`${dest}.part`).size).toBe(1000);
  });

  it('gives up with a clear message when the connection keeps going silent', async () => {
    const err = await download({ url: `${base}/slow.bin`, dest: join(tmp, 'silent.pth'), idleTimeoutMs: 150, retries: 1, retryDelayMs: 10 }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/failed after 2 attempts: no data for 0\.15 s \(the partial file is kept; retry to resume\)/);
  });
});

describe('download limits', () => {
  it('never follows a redirect from https down to http', () => {
    const from = new URL('https://dl.example/dino/a.pth');
    expect(() => redirectTarget(from, 'http://mirror.example/a.pth')).toThrow(/refused: dl\.example redirected this https download to http/);
    expect(() => redirectTarget(from, 'ftp://mirror.example/a.pth')).toThrow(DownloadError);
    expect(redirectTarget(from, 'https://cdn.example/a.pth').href).toBe('https://cdn.example/a.pth');
    expect(redirectTarget(from, '/other/a.pth').href).toBe('https://dl.example/other/a.pth');
    expect(redirectTarget(new URL('http://127.0.0.1/x'), 'https://dl.example/a.pth').protocol).toBe('https:');
  });

  it('cuts off a body that announces no length once it passes the limit, and keeps nothing of it', async () => {
    const dest = join(tmp, 'endless.pth');
    const err = await download({ url: `${base}/endless`, dest, maxBytes: 500_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DownloadError);
    expect((err as Error).message).toMatch(/sent more than 500000 bytes without announcing a length; the download was thrown away/);
    expect(existsSync(dest)).toBe(false);
    expect(existsSync(`${dest}.part`)).toBe(false);
  });

  it('refuses an announced length past the limit before reading the body', async () => {
    const dest = join(tmp, 'too-big.pth');
    await expect(download({ url: `${base}/ok.bin`, dest, maxBytes: 1000 })).rejects.toThrow(/offers 1000000 bytes, more than the 1000 a weights file may have/);
    expect(existsSync(`${dest}.part`)).toBe(false);
  });
});

describe('official checkpoints', () => {
  it('catalogues the four ViTs, backbone and full checkpoint, with the official URLs', () => {
    expect(OFFICIAL_CHECKPOINTS.map((c) => c.name)).toEqual([
      'dino_vits16', 'dino_vits16_full', 'dino_vits8', 'dino_vits8_full', 'dino_vitb16', 'dino_vitb16_full', 'dino_vitb8', 'dino_vitb8_full',
    ]);
    expect(officialUrl(findOfficial('dino_vits16')!, 'https://dl.fbaipublicfiles.com/dino')).toBe(
      'https://dl.fbaipublicfiles.com/dino/dino_deitsmall16_pretrain/dino_deitsmall16_pretrain.pth',
    );
    expect(findOfficial('dino_vitb8_full')!.file).toBe('dino_vitbase8_pretrain_full_checkpoint.pth');
    expect(findOfficial('dino_deitsmall8_pretrain.pth')!.name).toBe('dino_vits8');
  });

  it('fetches by name from DINO_WEIGHTS_BASE_URL into the models folder, once', async () => {
    const prev = process.env.DINO_WEIGHTS_BASE_URL;
    process.env.DINO_WEIGHTS_BASE_URL = base;
    try {
      const models = join(tmp, 'catalog-models');
      const r = await downloadOfficial('dino_vits16', models, { sha256: sha });
      expect(r).toMatchObject({ path: join(models, 'dino_deitsmall16_pretrain.pth'), existing: false, size: body.length });
      expect((await downloadOfficial('dino_vits16', models)).existing).toBe(true);
      await expect(downloadOfficial('dino_resnet50', models)).rejects.toThrow(/unknown official checkpoint/);
      // FILE|NAME: a name resolves to the catalog copy (no second download), a path to itself
      requests.length = 0;
      expect(await resolveWeights('dino_vits16', models)).toMatchObject({ path: join(models, 'dino_deitsmall16_pretrain.pth'), downloaded: false });
      const full = await resolveWeights('dino_vits16_full', models, { onProgress: () => undefined }).catch((e: unknown) => e);
      expect((full as Error).message).toMatch(/HTTP 404/); // this test server only has the backbone file
      expect(requests.map((q) => q.path)).toEqual(['/dino_deitsmall16_pretrain/dino_deitsmall16_pretrain_full_checkpoint.pth']);
      expect(await resolveWeights(join(models, 'dino_deitsmall16_pretrain.pth'), tmp)).toMatchObject({ downloaded: false });
      await expect(resolveWeights('dino_vits17', models)).rejects.toThrow(/no such file, and not an official checkpoint name \(dino_vits16, /);
    } finally {
      if (prev === undefined) delete process.env.DINO_WEIGHTS_BASE_URL;
      else process.env.DINO_WEIGHTS_BASE_URL = prev;
    }
  });

  it('records the first download of an official file and checks every later one against it', async () => {
    const prev = process.env.DINO_WEIGHTS_BASE_URL;
    process.env.DINO_WEIGHTS_BASE_URL = base;
    const models = join(tmp, 'pinned-models');
    try {
      // no checksum is published for the official files: the first download is recorded
      await downloadOfficial('dino_vits16', models);
      const pins = JSON.parse(readFileSync(join(models, PINS_FILE), 'utf8')) as Record<string, { sha256: string; size: number }>;
      expect(pins['dino_deitsmall16_pretrain.pth']).toEqual({ sha256: sha, size: body.length });
      // the file is deleted; the server now hands out other bytes of the same size
      rmSync(join(models, 'dino_deitsmall16_pretrain.pth'));
      officialBody = Buffer.from(body);
      officialBody[500_000]! ^= 0x01;
      const err = await downloadOfficial('dino_vits16', models).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ChecksumError);
      expect((err as Error).message).toMatch(/checksum mismatch .*checked against the first download of dino_deitsmall16_pretrain\.pth, recorded in .*official-sha256\.json/);
      expect(existsSync(join(models, 'dino_deitsmall16_pretrain.pth'))).toBe(false);
      // and a server that sends the recorded file again is believed
      officialBody = body;
      expect((await downloadOfficial('dino_vits16', models)).sha256).toBe(sha);
    } finally {
      officialBody = body;
      if (prev === undefined) delete process.env.DINO_WEIGHTS_BASE_URL;
      else process.env.DINO_WEIGHTS_BASE_URL = prev;
    }
  });
});
