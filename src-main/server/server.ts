import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { BINARY_RESULT_TYPE } from '../../src-shared/api';
import { createApi, dispatch, isChannel, type ApiModule, type ApiTable } from '../api/table';
import { apiModules } from '../api/modules';
import type { Catalog } from '../services/catalog/catalog';
import { streamEvents } from './event-stream';
import { defaultRendererDir } from './paths';
import { readPhoto, type PhotoKind } from '../services/serving/photo-responses';
import {
  SECURITY_HEADERS, TOKEN_HEADER, cookieToken, headerToken, hostAllowed, mediaToken, newToken, originAllowed, sameSecret, tokenCookie,
} from './security';
import { readStatic } from '../services/serving/static-files';


/** search:byImage carries a photo as base64; 64 MB covers a large camera file with room to spare. */
const MAX_BODY_BYTES = 64 * 1024 * 1024;

export interface ServerOptions {
  port?: number;
  host?: '127.0.0.1';
  /** the built UI; defaults to out/renderer */
  rendererDir?: string;
  /** a fixed token (tests); a random one per start otherwise */
  token?: string;
  maxBodyBytes?: number;
  /** the API modules to serve; every module of src-main/api/modules.ts by default */
  modules?: readonly ApiModule[];
}

export interface RunningServer {
  url: string;
  token: string;
  port: number;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** What every request is handled with. */
interface Site {
  catalog: Catalog;
  table: ApiTable;
  token: string;
  /** the secret the page's cookie holds: photos, events and the UI's files, never the API */
  media: string;
  rendererDir: string;
  host: string;
  port: number;
  maxBodyBytes: number;
  /** open event streams, closed with the server */
  streams: Set<() => void>;
}

function send(res: ServerResponse, status: number, body: string | Buffer, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Cache-Control': 'no-store', ...headers });
  res.end(body);
}

function sendText(res: ServerResponse, status: number, text: string): void {
  send(res, status, `${text}\n`, { 'Content-Type': 'text/plain; charset=utf-8' });
}

const sendJson = (res: ServerResponse, status: number, body: unknown): void => send(res, status, JSON.stringify(body), { 'Content-Type': 'application/json' });

/** One request: the checks every request passes, then the page, the API, the events, a photo or a file of the UI. */
async function handle(site: Site, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!hostAllowed(req, site.port)) return sendText(res, 403, 'forbidden: unexpected Host header');
  if (!originAllowed(req, site.port)) return sendText(res, 403, 'forbidden: cross-origin request');
  const url = new URL(req.url ?? '/', `http://${site.host}:${site.port}`);
  const path = url.pathname;
  const method = req.method ?? 'GET';
  const apiAuthorised = sameSecret(headerToken(req), site.token);
  const mediaAuthorised = apiAuthorised || sameSecret(cookieToken(req, site.port), site.media);

  if (method === 'GET' && (path === '/' || path === '/index.html')) return servePage(site, res, url, mediaAuthorised);
  if (path.startsWith('/api/')) {
    if (!apiAuthorised) return sendText(res, 401, `unauthorised: the API takes the token in the ${TOKEN_HEADER} header`);
    return serveApi(site, req, res, method, path);
  }
  if (!mediaAuthorised) return sendText(res, 401, 'unauthorised: missing or wrong token');
  if (method !== 'GET' && method !== 'HEAD') return sendText(res, 405, 'method not allowed');
  if (path === '/events') {
    const close = streamEvents(site.catalog.events, res, SECURITY_HEADERS);
    site.streams.add(close);
    res.on('close', () => site.streams.delete(close));
    return;
  }
  const photo = /^\/photo\/(\d{1,15})\/(thumb|full)$/.exec(path);
  if (photo) return servePhoto(site, req, res, method, Number(photo[1]), photo[2] as PhotoKind);
  const file = await readStatic(site.rendererDir, path);
  if (!file) return sendText(res, 404, 'not found');
  return send(res, 200, file.bytes, {
    'Content-Type': file.contentType,
    'Cache-Control': file.immutable ? 'private, max-age=31536000, immutable' : 'no-cache',
  });
}

/**
 * The first page load proves itself with ?token= and receives the media cookie; its script keeps the
 * token (sessionStorage) for the API's header.
 */
async function servePage(site: Site, res: ServerResponse, url: URL, mediaAuthorised: boolean): Promise<void> {
  const viaQuery = sameSecret(url.searchParams.get('token') ?? undefined, site.token);
  if (!viaQuery && !mediaAuthorised) return sendText(res, 401, 'unauthorised: open the address printed by `dino-explorer serve`, token included');
  const page = await readStatic(site.rendererDir, '/index.html');
  if (!page) return sendText(res, 500, `the UI is not built (${site.rendererDir} is missing): run \`npm run build\``);
  return send(res, 200, page.bytes, {
    'Content-Type': page.contentType,
    ...(viaQuery ? { 'Set-Cookie': tokenCookie(site.port, site.media) } : {}),
  });
}

/** POST /api/<channel> with a JSON body: one call of the channel table. */
async function serveApi(site: Site, req: IncomingMessage, res: ServerResponse, method: string, path: string): Promise<void> {
  if (method !== 'POST') return sendText(res, 405, 'use POST for /api/<channel>');
  // JSON only: an HTML form cannot send it cross-site without a CORS preflight we never grant.
  if (!(req.headers['content-type'] ?? '').toLowerCase().startsWith('application/json')) {
    return sendText(res, 415, 'the body must be application/json');
  }
  let channel: string;
  try {
    channel = decodeURIComponent(path.slice('/api/'.length));
  } catch {
    // a malformed %-escape is the client's mistake, not the server's
    return sendJson(res, 400, { error: 'bad request: the channel name is not valid percent-encoding' });
  }
  if (!isChannel(channel)) return sendJson(res, 404, { error: `unknown channel ${channel}` });
  const body = await readBody(req, site.maxBodyBytes);
  let args: unknown;
  try {
    args = body.length ? JSON.parse(body.toString('utf8')) : {};
  } catch {
    return sendJson(res, 400, { error: 'bad request: the body is not valid JSON' });
  }
  const envelope = await dispatch(site.table, channel, args);
  // a packed result (e.g. map:points) is the body itself: no JSON to build here or parse in the UI
  if ('result' in envelope && envelope.result instanceof Uint8Array) {
    const bytes = envelope.result;
    return send(res, 200, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { 'Content-Type': BINARY_RESULT_TYPE });
  }
  return sendJson(res, 200, envelope);
}

/** A photo or its thumbnail by catalog id, with an ETag; a full photo is streamed from its file. */
async function servePhoto(site: Site, req: IncomingMessage, res: ServerResponse, method: string, id: number, kind: PhotoKind): Promise<void> {
  const found = await readPhoto(site.catalog, id, kind);
  if (!found) return sendText(res, 404, 'no such photo');
  const etag = `"${found.etag}"`;
  if (req.headers['if-none-match'] === etag) return send(res, 304, '', { ETag: etag, 'Cache-Control': 'private, no-cache' });
  const headers = { 'Content-Type': found.contentType, ETag: etag, 'Cache-Control': 'private, no-cache', 'Content-Length': String(found.size) };
  // HEAD: the headers only, and no file opened
  if (method === 'HEAD') return send(res, 200, '', headers);
  const body = found.open();
  if (Buffer.isBuffer(body)) return send(res, 200, body, headers);
  res.writeHead(200, { ...SECURITY_HEADERS, ...headers });
  // streamed with backpressure; a file cut short or a client gone ends the response
  await pipeline(body, res).catch(() => res.destroy());
}

/**
 * Web mode: the API table over HTTP and server-sent events, on loopback only, behind a token. The
 * token itself travels only in a header the page's script sets (the API); the cookie the page
 * receives holds another secret derived from it, good for what an <img> or an EventSource must
 * fetch without a header (photos, events, the UI's files) and nothing else. Browsers send a
 * 127.0.0.1 cookie to every port, so any other local web server sees it; it can read photos with it,
 * never call the API (import, export, delete).
 */
export async function startServer(catalog: Catalog, options: ServerOptions = {}): Promise<RunningServer> {
  const token = options.token ?? newToken();
  const site: Site = {
    catalog,
    table: createApi(catalog, { kind: 'web' }, options.modules ?? apiModules),
    token,
    media: mediaToken(token),
    rendererDir: resolve(options.rendererDir ?? defaultRendererDir),
    host: options.host ?? '127.0.0.1',
    port: 0,
    maxBodyBytes: options.maxBodyBytes ?? MAX_BODY_BYTES,
    streams: new Set(),
  };
  const server = createServer((req, res) => {
    handle(site, req, res).catch((e: unknown) => {
      const status = e instanceof HttpError ? e.status : 500;
      if (!res.headersSent) sendText(res, status, e instanceof Error ? e.message : String(e));
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, site.host, () => {
      server.off('error', fail);
      ok();
    });
  });
  site.port = (server.address() as AddressInfo).port;
  return {
    url: `http://${site.host}:${site.port}/?token=${token}`,
    token,
    port: site.port,
    async close() {
      for (const close of [...site.streams]) close();
      await new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      });
    },
  };
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((ok, fail) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      req.resume();
      fail(new HttpError(413, `request body over ${limit} bytes`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.destroy();
        fail(new HttpError(413, `request body over ${limit} bytes`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => ok(Buffer.concat(chunks)));
    req.on('error', fail);
  });
}
