import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mapPointAt, packMapPoints, unpackMapPoints } from '../../src-shared/map-points';
import type { ApiModule } from '../api/table';
import { v } from '../api/validate';
import { openCatalog, type Catalog } from '../services/catalog/catalog';
import { mediaToken } from './security';
import { startServer, type RunningServer } from './server';

// Photos are served through services/photos; here a stand-in answers for ids 1 (thumb on disk) and 2.
const fixtures = mkdtempSync(join(tmpdir(), 'dino-server-fixtures-'));
const thumbFile = join(fixtures, '1.jpg');
// photo 3 is a large file shown as it is (streamed)
const bigFile = join(fixtures, 'big.png');
const bigBytes = Buffer.alloc(3 << 20, 7);
vi.mock('../services/photos/photo-files', () => ({
  thumbnailPath: (_c: unknown, id: number) => (id === 1 ? thumbFile : null),
  fullImage: async (_c: unknown, id: number) => {
    if (id === 3) return { file: bigFile, size: bigBytes.length, mtimeMs: 1, contentType: 'image/png' };
    if (id !== 1) throw new Error(`no image ${id}`);
    return { bytes: Buffer.from('full-bytes'), contentType: 'image/png' };
  },
}));

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  raw: Buffer;
}

function call(port: number, path: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  return new Promise((ok, fail) => {
    const req = request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: { host: `127.0.0.1:${port}`, ...opts.headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        ok({ status: res.statusCode ?? 0, headers: res.headers, body: raw.toString('utf8'), raw });
      });
    });
    req.on('error', fail);
    req.end(opts.body);
  });
}

describe('web mode server', () => {
  let dir: string;
  let catalog: Catalog;
  let server: RunningServer;
  let port: number;
  let auth: Record<string, string>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dino-server-'));
    const ui = join(dir, 'ui');
    mkdirSync(join(ui, 'assets'), { recursive: true });
    writeFileSync(join(ui, 'index.html'), '<!doctype html><title>ui</title>');
    writeFileSync(join(ui, 'assets', 'app.js'), 'console.log(1)');
    writeFileSync(thumbFile, Buffer.from([0xff, 0xd8, 0xff, 0xd9]));
    writeFileSync(bigFile, bigBytes);
    catalog = openCatalog(join(dir, 'catalog'));
    server = await startServer(catalog, { rendererDir: ui, maxBodyBytes: 1024 });
    port = server.port;
    auth = { 'x-dino-token': server.token, 'content-type': 'application/json' };
  });

  afterAll(async () => {
    await server.close();
    await catalog.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(fixtures, { recursive: true, force: true });
  });

  it('listens on loopback with a long random token in the URL', () => {
    expect(server.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/\\?token=[A-Za-z0-9_-]{40,}$`));
  });

  it('serves the page for the right token only, and hands out an HttpOnly SameSite=Strict cookie', async () => {
    expect((await call(port, '/')).status).toBe(401);
    expect((await call(port, '/?token=wrong')).status).toBe(401);
    const page = await call(port, `/?token=${server.token}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>ui</title>');
    const cookie = String(page.headers['set-cookie']);
    // the cookie carries a secret derived from the token, never the token
    expect(cookie).not.toContain(server.token);
    expect(cookie).toContain(`=${mediaToken(server.token)};`);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    expect(page.headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
  });

  it('lets the cookie fetch photos, events and the UI, never the API: a leaked cookie cannot drive the app', async () => {
    const page = await call(port, `/?token=${server.token}`);
    const cookie = String(page.headers['set-cookie']).split(';')[0]!;
    expect((await call(port, '/photo/1/thumb', { headers: { cookie } })).status).toBe(200);
    expect((await call(port, '/', { headers: { cookie } })).status).toBe(200);
    for (const channel of ['jobs:list', 'library:import', 'export:run']) {
      const viaCookie = await call(port, `/api/${channel}`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: '{}' });
      expect(viaCookie.status, channel).toBe(401);
      expect(viaCookie.body).toMatch(/x-dino-token header/);
    }
    // nor does the cookie's value work as the token in the header
    const asHeader = await call(port, '/api/jobs:list', { method: 'POST', headers: { 'x-dino-token': cookie.split('=')[1]!, 'content-type': 'application/json' }, body: '{}' });
    expect(asHeader.status).toBe(401);
  });

  it('answers 400, not 500, to a channel name with a malformed %-escape', async () => {
    for (const name of ['%E0%A4%A', '%', 'jobs%3alist%ZZ', '%C0%AF']) {
      const r = await call(port, `/api/${name}`, { method: 'POST', headers: auth, body: '{}' });
      expect(r.status, name).toBe(400);
      expect(JSON.parse(r.body).error, name).toMatch(/bad request/);
    }
    // a well-formed escape of a real channel still works
    expect((await call(port, '/api/jobs%3Alist', { method: 'POST', headers: auth, body: '{}' })).status).toBe(200);
  });

  it('refuses fields named after what every object inherits, and integers beyond the safe range', async () => {
    const bodies: [string, string][] = [
      ['jobs:cancel', '{"jobId": "x", "toString": 1}'],
      ['jobs:cancel', '{"__proto__": {"jobId": "x"}}'],
      ['jobs:cancel', '{"constructor": {"jobId": "x"}}'],
      ['library:images', '{"offset": 1e300, "limit": 10}'],
      ['library:images', '{"offset": 9007199254740993, "limit": 10}'],
      ['train:start', '{"overrides": {"__proto__": 1}}'],
      ['train:start', '{"overrides": {"toString": 1}}'],
    ];
    for (const [channel, body] of bodies) {
      const r = await call(port, `/api/${channel}`, { method: 'POST', headers: auth, body });
      expect(JSON.parse(r.body).error, body).toMatch(/^bad request: arguments/);
    }
    // an inherited name is never taken for a field that was not sent
    const r = await call(port, '/api/jobs:cancel', { method: 'POST', headers: auth, body: '{}' });
    expect(JSON.parse(r.body).error).toMatch(/arguments\.jobId must be a string/);
  });

  it('refuses every other request without the token (401), with it by header or cookie (200)', async () => {
    expect((await call(port, '/assets/app.js')).status).toBe(401);
    expect((await call(port, '/api/jobs:list', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(401);
    expect((await call(port, '/events')).status).toBe(401);
    expect((await call(port, '/photo/1/thumb')).status).toBe(401);
    const page = await call(port, `/?token=${server.token}`);
    const cookie = String(page.headers['set-cookie']).split(';')[0]!;
    const asset = await call(port, '/assets/app.js', { headers: { cookie } });
    expect(asset.status).toBe(200);
    expect(asset.headers['content-type']).toContain('javascript');
    const viaHeader = await call(port, '/api/jobs:list', { method: 'POST', headers: auth, body: '{}' });
    expect(viaHeader.status).toBe(200);
    expect(JSON.parse(viaHeader.body)).toEqual({ result: [] });
  });

  it('refuses a foreign Host (DNS rebinding) and a foreign Origin with 403, even with the token', async () => {
    const evilHost = await call(port, '/api/jobs:list', { method: 'POST', headers: { ...auth, host: `evil.example:${port}` }, body: '{}' });
    expect(evilHost.status).toBe(403);
    expect((await call(port, `/?token=${server.token}`, { headers: { host: 'evil.example' } })).status).toBe(403);
    const evilOrigin = await call(port, '/api/jobs:list', { method: 'POST', headers: { ...auth, origin: 'http://evil.example' }, body: '{}' });
    expect(evilOrigin.status).toBe(403);
    expect((await call(port, '/api/jobs:list', { method: 'POST', headers: { ...auth, origin: 'null' }, body: '{}' })).status).toBe(403);
    const crossSite = await call(port, '/photo/1/thumb', { headers: { 'x-dino-token': server.token, 'sec-fetch-site': 'cross-site' } });
    expect(crossSite.status).toBe(403);
    const sameOrigin = await call(port, '/api/jobs:list', { method: 'POST', headers: { ...auth, origin: `http://localhost:${port}`, host: `localhost:${port}` }, body: '{}' });
    expect(sameOrigin.status).toBe(200);
  });

  it('answers envelopes, rejects non-JSON bodies, unknown channels and bodies over the limit', async () => {
    const bad = await call(port, '/api/jobs:cancel', { method: 'POST', headers: auth, body: '{"jobId": 3}' });
    expect(JSON.parse(bad.body).error).toMatch(/bad request/);
    expect((await call(port, '/api/nope:nope', { method: 'POST', headers: auth, body: '{}' })).status).toBe(404);
    expect((await call(port, '/api/jobs:list', { method: 'POST', headers: auth, body: '{' })).status).toBe(400);
    const form = await call(port, '/api/jobs:list', { method: 'POST', headers: { ...auth, 'content-type': 'text/plain' }, body: '{}' });
    expect(form.status).toBe(415);
    expect((await call(port, '/api/jobs:list', { headers: auth })).status).toBe(405);
    const big = await call(port, '/api/jobs:list', { method: 'POST', headers: auth, body: JSON.stringify({ pad: 'x'.repeat(2048) }) });
    expect(big.status).toBe(413);
  });

  it('sends a packed (Uint8Array) result as the raw body, and errors still as envelopes', async () => {
    const points = [
      { id: 3, x: 0.5, y: -1.5, cluster: 2 },
      { id: 9, x: 2, y: 4, cluster: null },
    ];
    const mapOnly: ApiModule = () => ({
      'map:points': {
        check: v.object({ clusteringId: v.optional(v.int({ min: 1 })) }),
        handle: ({ clusteringId }) => {
          if (clusteringId === 99) throw new Error('There is no clustering 99.');
          return packMapPoints(points);
        },
      },
    });
    const packed = await startServer(catalog, { rendererDir: join(dir, 'ui'), token: server.token, modules: [mapOnly] });
    try {
      const ok = await call(packed.port, '/api/map:points', { method: 'POST', headers: auth, body: '{}' });
      expect(ok.status).toBe(200);
      expect(ok.headers['content-type']).toBe('application/octet-stream');
      const cols = unpackMapPoints(ok.raw);
      expect([0, 1].map((i) => mapPointAt(cols, i))).toEqual(points);
      const failed = await call(packed.port, '/api/map:points', { method: 'POST', headers: auth, body: '{"clusteringId": 99}' });
      expect(failed.headers['content-type']).toBe('application/json');
      expect(JSON.parse(failed.body)).toEqual({ error: 'There is no clustering 99.' });
    } finally {
      await packed.close();
    }
  });

  it('never serves files outside the built UI', async () => {
    for (const p of ['/../catalog/catalog.sqlite', '/%2e%2e/catalog/catalog.sqlite', '/assets/..%2f..%2fcatalog%2fcatalog.sqlite']) {
      const r = await call(port, p, { headers: auth });
      expect(r.status, p).toBe(404);
    }
  });

  it('serves photos by catalog id only, with their content type', async () => {
    const thumb = await call(port, '/photo/1/thumb', { headers: auth });
    expect(thumb.status).toBe(200);
    expect(thumb.headers['content-type']).toBe('image/jpeg');
    const full = await call(port, '/photo/1/full', { headers: auth });
    expect(full.status).toBe(200);
    expect(full.headers['content-type']).toBe('image/png');
    expect(full.body).toBe('full-bytes');
    // a photo shown as it is comes from its file as a stream, whole and with its length
    const big = await call(port, '/photo/3/full', { headers: auth });
    expect(big.status).toBe(200);
    expect(big.headers['content-length']).toBe(String(bigBytes.length));
    expect(big.raw.equals(bigBytes)).toBe(true);
    const again = await call(port, '/photo/1/full', { headers: { ...auth, 'if-none-match': String(full.headers.etag) } });
    expect(again.status).toBe(304);
    expect((await call(port, '/photo/2/thumb', { headers: auth })).status).toBe(404);
    expect((await call(port, '/photo/2/full', { headers: auth })).status).toBe(404);
    expect((await call(port, '/photo/abc/thumb', { headers: auth })).status).toBe(404);
  });

  it('streams job:progress events over SSE', async () => {
    const received = new Promise<string>((ok, fail) => {
      const req = request({ host: '127.0.0.1', port, path: '/events', headers: { host: `127.0.0.1:${port}`, 'x-dino-token': server.token } }, (res) => {
        expect(res.statusCode).toBe(200);
        expect(res.headers['content-type']).toContain('text/event-stream');
        let text = '';
        res.on('data', (c: Buffer) => {
          text += c.toString('utf8');
          if (text.includes(': connected')) {
            // subscribed: now make the core emit
            if (!text.includes('event: job:progress')) void catalog.jobs.start('import', async (ctx) => ctx.progress({ phase: 'scan', done: 1, total: 2 }));
          }
          const m = /event: job:progress\ndata: (.*)\n\n/.exec(text);
          if (m) {
            req.destroy();
            ok(m[1]!);
          }
        });
      });
      req.on('error', fail);
      req.end();
    });
    const job = JSON.parse(await received) as { kind: string };
    expect(job.kind).toBe('import');
  });

  it('holds events back for a client that stops reading: progress of one job is replaced, a stream too far behind is closed', async () => {
    const pad = 'x'.repeat(10_000);
    /** opens /events, stops reading once connected, runs `emit`, then reads on: what arrives, and whether the server ended it */
    const stalled = (emit: () => void) =>
      new Promise<{ text: string; ended: boolean }>((ok, fail) => {
        const req = request({ host: '127.0.0.1', port, path: '/events', headers: { host: `127.0.0.1:${port}`, 'x-dino-token': server.token } }, (res) => {
          let text = '';
          let emitted = false;
          res.on('data', (c: Buffer) => {
            text += c.toString('utf8');
            if (!emitted && text.includes(': connected')) {
              emitted = true;
              res.pause();
              emit();
              // read on once the server has dealt with the flood
              setTimeout(() => res.resume(), 200);
            }
            if (text.includes('"version":5000')) {
              req.destroy();
              ok({ text, ended: false });
            }
          });
          res.on('end', () => ok({ text, ended: true }));
          res.on('error', () => ok({ text, ended: true }));
        });
        req.on('error', (e) => (e.message.includes('socket hang up') || (e as NodeJS.ErrnoException).code === 'ECONNRESET' ? ok({ text: '', ended: true }) : fail(e)));
        req.end();
      });

    // 5000 states of one job (50 MB of JSON): only the newest waits, so the stream stays open
    const job = { id: 'j1', kind: 'import', state: 'running', pad };
    const progress = await stalled(() => {
      for (let v = 1; v <= 5000; v++) catalog.events.emit('job:progress', { ...job, version: v } as never);
    });
    expect(progress.ended).toBe(false);
    const frames = progress.text.split('event: job:progress').length - 1;
    expect(frames).toBeGreaterThan(0);
    expect(frames).toBeLessThan(2500);
    // 5000 distinct events the client does not take: the server gives up on it instead of holding 50 MB
    const metrics = await stalled(() => {
      for (let step = 1; step <= 5000; step++) catalog.events.emit('train:metric', { runId: 1, step, pad } as never);
    });
    expect(metrics.ended).toBe(true);
    expect(metrics.text.split('event: train:metric').length - 1).toBeLessThan(5000);
    expect(catalog.events.listenerCount('train:metric')).toBe(0);
  });
});
