// Downloads a weights file over HTTP(S) into the catalog: follows redirects (never from https down to
// http), reports progress, writes to `<dest>.part` and resumes it with a Range request after a
// dropped connection (also in a later run), checks the size and, when known, the sha256, and only
// then renames the file into place, so a file under its final name is always complete. A body past
// the expected size, or past maxBytes when no size is known, is cut off and thrown away. Cancel with
// an AbortSignal: the partial file stays for the next attempt. No third-party HTTP client:
// node:http/https suffice.

import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { dirname, join } from 'node:path';
import { findOfficial, officialUrl } from './official';

export interface DownloadProgress {
  received: number;
  /** null while the server has not said */
  total: number | null;
}

export interface DownloadOptions {
  url: string;
  dest: string;
  expectedSize?: number;
  sha256?: string;
  onProgress?: (p: DownloadProgress) => void;
  signal?: AbortSignal;
  /** attempts after the first when the connection drops (each resumes); default 4 */
  retries?: number;
  retryDelayMs?: number;
  /** a connection silent for this long counts as dropped; default 30 s */
  idleTimeoutMs?: number;
  /**
   * the most bytes taken when expectedSize is not given (a server need not announce a length, and
   * one that streams for ever must not fill the disk); default DEFAULT_MAX_BYTES
   */
  maxBytes?: number;
}

/** The official ViT-B/8 full checkpoint, the largest, is about 1 GB. */
export const DEFAULT_MAX_BYTES = 4 * 1024 ** 3;

export interface DownloadResult {
  path: string;
  size: number;
  sha256: string;
  attempts: number;
  /** bytes taken over from an earlier partial file or attempt */
  resumedFrom: number[];
}

export class DownloadError extends Error {
  override name = 'DownloadError';
}
export class ChecksumError extends DownloadError {
  override name = 'ChecksumError';
}

class RetryableError extends Error {}
class OversizeError extends DownloadError {}

function abortError(): Error {
  const e = new Error('download cancelled');
  e.name = 'AbortError';
  return e;
}

/** Why we cut a response (idle timeout): its 'error' event only says "aborted". */
const dropReasons = new WeakMap<http.IncomingMessage, Error>();

/**
 * Where a redirect leads. From https only to https: a step down to http would hand the rest of the
 * download (and what it says the file is) to anyone on the path.
 */
export function redirectTarget(from: URL, location: string): URL {
  const next = new URL(location, from);
  if (from.protocol === 'https:' && next.protocol !== 'https:') {
    throw new DownloadError(`refused: ${from.host} redirected this https download to ${next.protocol.replace(':', '')}, which anyone on the way could change`);
  }
  return next;
}

function get(url: string, headers: Record<string, string>, signal: AbortSignal | undefined, idleMs: number, redirects = 5): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const mod = u.protocol === 'https:' ? https : u.protocol === 'http:' ? http : null;
    if (!mod) return reject(new DownloadError(`unsupported URL scheme ${u.protocol}`));
    let response: http.IncomingMessage | undefined;
    const req = mod.get(u, { headers: { 'user-agent': 'dino-explorer', ...headers } }, (res) => {
      response = res;
      const status = res.statusCode ?? 0;
      if ([301, 302, 303, 307, 308].includes(status) && res.headers.location) {
        res.resume();
        if (redirects === 0) return reject(new DownloadError(`too many redirects at ${url}`));
        let next: string;
        try {
          next = redirectTarget(u, res.headers.location).toString();
        } catch (e) {
          return reject(e);
        }
        return get(next, headers, signal, idleMs, redirects - 1).then(resolve, reject);
      }
      resolve(res);
    });
    req.setTimeout(idleMs, () => {
      const e = new RetryableError(`no data for ${idleMs / 1000} s`);
      if (response) dropReasons.set(response, e);
      req.destroy(e);
    });
    req.on('error', (err) => reject(signal?.aborted ? abortError() : err instanceof RetryableError ? err : new RetryableError(err.message)));
    const onAbort = () => req.destroy(abortError());
    signal?.addEventListener('abort', onAbort, { once: true });
    req.on('close', () => signal?.removeEventListener('abort', onAbort));
  });
}

async function fileSha256(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

function sizeOf(path: string): number {
  return existsSync(path) ? statSync(path).size : 0;
}

/** One request: appends to the part file from `have`; resolves with the total size once complete. */
async function attempt(o: DownloadOptions, part: string, have: number, report: (n: number, total: number | null) => void): Promise<number> {
  const res = await get(o.url, have > 0 ? { range: `bytes=${have}-` } : {}, o.signal, o.idleTimeoutMs ?? 30_000);
  const status = res.statusCode ?? 0;
  let start = 0;
  let total: number | null = null;
  if (status === 206) {
    const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(String(res.headers['content-range'] ?? ''));
    if (!m || Number(m[1]) !== have) {
      res.resume();
      unlinkSync(part); // the server sent another range: start again from zero
      throw new RetryableError('the server answered a different range');
    }
    start = have;
    total = m[3] === '*' ? null : Number(m[3]);
  } else if (status === 200) {
    const len = res.headers['content-length'];
    total = len !== undefined ? Number(len) : null; // a 200 to a Range request: the server restarts from zero
  } else if (status === 416) {
    res.resume();
    const m = /\/(\d+)$/.exec(String(res.headers['content-range'] ?? ''));
    if (m && Number(m[1]) === have) return have; // the part file is already complete
    unlinkSync(part);
    throw new RetryableError('the partial file is longer than the remote file');
  } else {
    res.resume();
    const msg = `HTTP ${status} ${res.statusMessage ?? ''} for ${o.url}`.trim();
    if (status >= 500) throw new RetryableError(msg);
    throw new DownloadError(msg);
  }
  if (o.expectedSize !== undefined && total !== null && total !== o.expectedSize) {
    res.resume();
    throw new DownloadError(`the server offers ${total} bytes, expected ${o.expectedSize}: not the expected file`);
  }
  const limit = o.expectedSize ?? o.maxBytes ?? DEFAULT_MAX_BYTES;
  if (total !== null && total > limit) {
    res.destroy();
    throw new DownloadError(`the server offers ${total} bytes, more than the ${limit} a weights file may have; refused`);
  }
  const out = createWriteStream(part, { flags: start > 0 ? 'a' : 'w' });
  const closed = new Promise<void>((r) => out.once('close', () => r()));
  let received = start;
  report(received, total);
  try {
    await new Promise<void>((resolve, reject) => {
      res.on('data', (chunk: Buffer) => {
        received += chunk.length;
        // the length the server announced, or none: either way no more than the limit is kept
        if (received > limit) {
          res.destroy(new OversizeError(`the server sent more than ${limit} bytes${total === null ? ' without announcing a length' : ''}; the download was thrown away`));
          return;
        }
        report(received, total);
      });
      // a destroyed response emits 'error' (with our reason: cancel, idle timeout) before 'close'
      res.on('error', (err) => reject(o.signal?.aborted ? abortError() : err instanceof OversizeError ? err : dropReasons.get(res) ?? new RetryableError(`the connection dropped (${err.message})`)));
      res.on('close', () => !res.complete && reject(o.signal?.aborted ? abortError() : new RetryableError('the connection dropped')));
      out.on('error', reject);
      res.pipe(out);
      out.on('finish', resolve);
    });
  } finally {
    // a dropped connection rejects at once, with bytes still on their way to the file: the next
    // attempt resumes from the file's size, so it may only look once they are all written
    if (!out.writableEnded) out.end();
    await closed;
  }
  if (o.signal?.aborted) throw abortError();
  if (total !== null && received < total) throw new RetryableError(`the connection dropped at ${received} of ${total} bytes`);
  return received;
}

/** attempt(), with a body cut off for its size thrown away rather than kept to resume */
async function attemptWithin(o: DownloadOptions, part: string, have: number, report: (n: number, total: number | null) => void): Promise<number> {
  try {
    return await attempt(o, part, have, report);
  } catch (e) {
    if (e instanceof OversizeError) rmPart(part);
    throw e;
  }
}

function rmPart(part: string): void {
  try {
    unlinkSync(part);
  } catch {
    // already gone
  }
}

/** Downloads `url` to `dest` (see the file comment). Throws DownloadError / ChecksumError / AbortError. */
export async function download(o: DownloadOptions): Promise<DownloadResult> {
  const part = `${o.dest}.part`;
  if (existsSync(o.dest)) throw new DownloadError(`${o.dest} exists already`);
  await mkdir(dirname(o.dest), { recursive: true });
  const retries = o.retries ?? 4;
  const resumedFrom: number[] = [];
  let lastReport = 0;
  const report = (received: number, total: number | null) => {
    const now = Date.now();
    if (o.onProgress && (now - lastReport >= 100 || received === total)) {
      lastReport = now;
      o.onProgress({ received, total });
    }
  };
  let size: number;
  let attempts = 0;
  for (;;) {
    if (o.signal?.aborted) throw abortError();
    attempts++;
    let have = sizeOf(part);
    if (o.expectedSize !== undefined && have > o.expectedSize) {
      unlinkSync(part);
      have = 0;
    }
    if (have > 0) resumedFrom.push(have);
    try {
      size = await attemptWithin(o, part, have, report);
      break;
    } catch (err) {
      if (!(err instanceof RetryableError)) throw err;
      if (attempts > retries) throw new DownloadError(`download of ${o.url} failed after ${attempts} attempts: ${err.message} (the partial file is kept; retry to resume)`);
      await new Promise((r) => setTimeout(r, (o.retryDelayMs ?? 500) * attempts));
    }
  }
  if (o.expectedSize !== undefined && size !== o.expectedSize) throw new DownloadError(`downloaded ${size} bytes, expected ${o.expectedSize}`);
  const sha256 = await fileSha256(part);
  if (o.sha256 && sha256 !== o.sha256.toLowerCase()) {
    unlinkSync(part);
    throw new ChecksumError(`checksum mismatch for ${o.url}: got sha256 ${sha256}, expected ${o.sha256}; the corrupt download was deleted`);
  }
  renameSync(part, o.dest);
  return { path: o.dest, size, sha256, attempts, resumedFrom };
}

export interface OfficialDownloadResult extends Partial<DownloadResult> {
  path: string;
  /** true when the file was already in the models folder */
  existing: boolean;
}

/**
 * sha256 and size of the official files this catalog downloaded, by file name: the publisher gives
 * no checksums for them, so the first complete download is recorded and every later one must match
 * it (a changed or tampered file on the server, or on the way, is then refused).
 */
export const PINS_FILE = 'official-sha256.json';

type Pins = Record<string, { sha256: string; size: number }>;

function readPins(file: string): Pins {
  try {
    const pins = JSON.parse(readFileSync(file, 'utf8')) as Pins;
    return pins && typeof pins === 'object' ? pins : {};
  } catch {
    return {};
  }
}

/** Fetches an official checkpoint by name into `modelsDir` (the catalog's models/). */
export async function downloadOfficial(
  name: string,
  modelsDir: string,
  opts: Omit<DownloadOptions, 'url' | 'dest'> & { baseUrl?: string } = {},
): Promise<OfficialDownloadResult> {
  const c = findOfficial(name);
  if (!c) throw new DownloadError(`unknown official checkpoint "${name}"`);
  const dest = join(modelsDir, c.file);
  if (existsSync(dest)) return { path: dest, existing: true };
  const { baseUrl, ...rest } = opts;
  const pinsFile = join(modelsDir, PINS_FILE);
  const pinned = readPins(pinsFile)[c.file];
  const sha256 = rest.sha256 ?? c.sha256 ?? pinned?.sha256;
  const expectedSize = rest.expectedSize ?? c.size ?? pinned?.size;
  let r: DownloadResult;
  try {
    r = await download({
      ...rest,
      url: officialUrl(c, baseUrl),
      dest,
      ...(sha256 ? { sha256 } : {}),
      ...(expectedSize !== undefined ? { expectedSize } : {}),
    });
  } catch (e) {
    if (pinned && !c.sha256 && !rest.sha256 && e instanceof DownloadError) {
      e.message += ` (checked against the first download of ${c.file}, recorded in ${pinsFile})`;
    }
    throw e;
  }
  if (!c.sha256 && !pinned) {
    const pins = readPins(pinsFile);
    pins[c.file] = { sha256: r.sha256, size: r.size };
    writeFileSync(`${pinsFile}.tmp`, `${JSON.stringify(pins, null, 2)}\n`);
    renameSync(`${pinsFile}.tmp`, pinsFile);
  }
  return { ...r, existing: false };
}
