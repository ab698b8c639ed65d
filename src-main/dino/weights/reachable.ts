// Whether a download answers from this machine, asked before offering it: a HEAD request that follows
// redirects, with a short timeout, so an offline machine hears "cannot reach" in seconds rather than
// after a download's retries. Nothing is downloaded.

import http from 'node:http';
import https from 'node:https';
import { redirectTarget } from './download';

export interface Reachability {
  reachable: boolean;
  host: string;
  /** why not, in words; null when reachable */
  reason: string | null;
  /** Content-Length of the final answer, when given */
  size: number | null;
}

const WHY: Record<string, string> = {
  ENOTFOUND: 'cannot look up the host (no internet connection, or no DNS)',
  EAI_AGAIN: 'cannot look up the host (no internet connection, or no DNS)',
  ECONNREFUSED: 'the connection was refused',
  ECONNRESET: 'the connection was reset',
  ENETUNREACH: 'the network is unreachable',
  EHOSTUNREACH: 'the host is unreachable',
  ETIMEDOUT: 'the connection timed out',
};

export function probeReachable(url: string, opts: { timeoutMs?: number; redirects?: number } = {}): Promise<Reachability> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const u = new URL(url);
  const answer = (reachable: boolean, reason: string | null, size: number | null = null): Reachability => ({ reachable, host: u.host, reason, size });
  const mod = u.protocol === 'https:' ? https : u.protocol === 'http:' ? http : null;
  if (!mod) return Promise.resolve(answer(false, `unsupported URL scheme ${u.protocol}`));
  return new Promise((resolve) => {
    const req = mod.request(u, { method: 'HEAD', headers: { 'user-agent': 'dino-explorer' } }, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      const left = opts.redirects ?? 5;
      if ([301, 302, 303, 307, 308].includes(status) && res.headers.location) {
        if (left === 0) return resolve(answer(false, 'too many redirects'));
        let next: URL;
        try {
          // the download's own rule (no https -> http): what it would refuse is not reachable
          next = redirectTarget(u, res.headers.location);
        } catch (e) {
          return resolve(answer(false, (e as Error).message));
        }
        return void probeReachable(next.toString(), { timeoutMs, redirects: left - 1 }).then(resolve);
      }
      if (status >= 400) return resolve(answer(false, `the server answered HTTP ${status}`));
      const len = Number(res.headers['content-length']);
      resolve(answer(true, null, Number.isFinite(len) && len > 0 ? len : null));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    req.on('error', (e: NodeJS.ErrnoException) => resolve(answer(false, (e.code && WHY[e.code]) ?? e.message)));
    req.end();
  });
}
