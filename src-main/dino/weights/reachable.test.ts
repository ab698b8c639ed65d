import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenLocal, type LocalServer } from '../../testing/local-server';
import { probeReachable } from './reachable';

let server: LocalServer;
let base = '';
const methods: string[] = [];

beforeAll(async () => {
  server = await listenLocal((req, res) => {
    methods.push(req.method ?? '');
    if (req.url === '/file.pth') return void res.writeHead(200, { 'content-length': 1234 }).end();
    if (req.url === '/moved') return void res.writeHead(302, { location: '/file.pth' }).end();
    if (req.url === '/loop') return void res.writeHead(302, { location: '/loop' }).end();
    if (req.url === '/silent') return; // never answers
    res.writeHead(404).end();
  });
  base = server.url;
});
afterAll(() => server.close());

describe('probeReachable', () => {
  it('asks with HEAD only, follows redirects and reports the size', async () => {
    methods.length = 0;
    expect(await probeReachable(`${base}/moved`)).toEqual({ reachable: true, host: base.slice(7), reason: null, size: 1234 });
    expect(methods).toEqual(['HEAD', 'HEAD']);
  });

  it('says why not: an HTTP error, a refused connection, silence, a redirect loop, another scheme', async () => {
    expect(await probeReachable(`${base}/missing`)).toMatchObject({ reachable: false, reason: 'the server answered HTTP 404' });
    // port 9 (discard): nothing listens there
    expect(await probeReachable('http://127.0.0.1:9/x')).toEqual({ reachable: false, host: '127.0.0.1:9', reason: 'the connection was refused', size: null });
    const t0 = Date.now();
    expect(await probeReachable(`${base}/silent`, { timeoutMs: 200 })).toMatchObject({ reachable: false, reason: 'no answer within 0.2 s' });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(await probeReachable(`${base}/loop`)).toMatchObject({ reachable: false, reason: 'too many redirects' });
    expect(await probeReachable('ftp://example.org/x')).toMatchObject({ reachable: false, reason: 'unsupported URL scheme ftp:' });
  });
});
