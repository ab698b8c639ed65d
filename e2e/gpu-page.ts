import type { Page } from '@playwright/test';
import { join } from 'node:path';
import { GPU_JOB_MESSAGE } from '../src-main/compute/protocol';
import { appContentSecurityPolicy } from '../src-main/app/schemes';
import { readStatic } from '../src-main/services/serving/static-files';
import { ComputeLostError, type JobChannel } from '../src-main/services/threads/job-channel';
import { listenLocal, type LocalServer } from '../src-main/testing/local-server';
import { repoRoot } from './electron';

/**
 * The built renderer (out/renderer) on http://127.0.0.1 (a secure context, as WebGPU needs), with the
 * app's Content-Security-Policy on every file: what Electron's app:// handler serves the GPU window.
 */
export async function serveRenderer(): Promise<LocalServer> {
  const root = join(repoRoot, 'out', 'renderer');
  return listenLocal((req, res) => {
    void readStatic(root, new URL(req.url ?? '/', 'http://127.0.0.1').pathname).then((file) => {
      if (!file) {
        res.writeHead(404).end('not found');
        return;
      }
      res.writeHead(200, { 'Content-Type': file.contentType, 'Content-Security-Policy': appContentSecurityPolicy(), 'X-Content-Type-Options': 'nosniff' });
      res.end(file.bytes);
    });
  });
}

/** What the bridge uses of the page's window (typed here: the e2e code is checked without the DOM's types). */
interface PagePort {
  onmessage: ((e: { data: unknown }) => void) | null;
  postMessage(message: unknown): void;
  close(): void;
}
interface BridgeWindow {
  __dinoPorts: Map<number, PagePort>;
  __dinoFromGpu(id: number, message: unknown): void;
  MessageChannel: new () => { port1: PagePort; port2: object };
  postMessage(message: unknown, targetOrigin: string, transfer: object[]): void;
  location: { origin: string };
}

/**
 * Job channels into the GPU page, as Electron's main opens them: each job gets a MessageChannel whose
 * far end is handed to the page with the same window.postMessage its preload uses; this end is
 * relayed to the test's Node process (Playwright carries typed arrays both ways). A closed or crashed
 * page is the compute side's loss, as a crashed GPU window is in the app.
 */
export async function gpuPageChannels(page: Page): Promise<() => JobChannel> {
  type Handlers = Parameters<JobChannel['listen']>[0];
  const listeners = new Map<number, Handlers>();
  await page.exposeBinding('__dinoFromGpu', (_source, id: number, message: Parameters<Handlers['message']>[0]) => listeners.get(id)?.message(message));
  await page.evaluate(() => ((globalThis as unknown as BridgeWindow).__dinoPorts = new Map()));
  const lose = (why: string) => () => {
    for (const l of listeners.values()) l.gone(new ComputeLostError(why));
    listeners.clear();
  };
  page.on('crash', lose('the GPU page crashed'));
  page.on('close', lose('the GPU page closed'));
  // page calls run in order, as messages on one port arrive in order
  let queue: Promise<unknown> = Promise.resolve();
  const inPage = <A>(f: (a: A) => void, arg: A): void => {
    queue = queue.then(() => page.evaluate(f as (a: unknown) => void, arg as unknown)).catch(() => undefined);
  };
  let next = 0;
  return () => {
    const id = next++;
    inPage(
      ({ id, kind }) => {
        const w = globalThis as unknown as BridgeWindow;
        const ch = new w.MessageChannel();
        ch.port1.onmessage = (e) => w.__dinoFromGpu(id, e.data);
        w.__dinoPorts.set(id, ch.port1);
        w.postMessage(kind, w.location.origin, [ch.port2]);
      },
      { id, kind: GPU_JOB_MESSAGE },
    );
    return {
      post: (message) => inPage(({ id, message }) => (globalThis as unknown as BridgeWindow).__dinoPorts.get(id)?.postMessage(message), { id, message }),
      listen: (handlers) => void listeners.set(id, handlers),
      close: () => {
        listeners.delete(id);
        inPage((id) => {
          const w = globalThis as unknown as BridgeWindow;
          w.__dinoPorts.get(id)?.close();
          w.__dinoPorts.delete(id);
        }, id);
      },
    };
  };
}
