import { afterEach, describe, expect, it, vi } from 'vitest';
import type { MessagePort } from 'node:worker_threads';
import type { JobBody } from '../compute/protocol';
import type { GpuAdapterSummary, GpuWindow } from '../services/threads/gpu-window-link';
import { ComputeLostError, runJob } from '../services/threads/job-channel';

// app/gpu-window.ts against a stand-in for Electron: MessageChannelMain over Node's MessageChannel,
// and a page that serves every port it is handed, as the real page does (compute/protocol.ts).
type Listener = (...a: unknown[]) => void;
const rec = vi.hoisted(() => ({
  windows: [] as { options: Record<string, unknown>; url?: string; destroyed: boolean; events: Map<string, Listener>; contents: Map<string, Listener> }[],
  page: { jobs: {} as Record<string, unknown>, ports: [] as MessagePort[], closed: false },
}));

vi.mock('electron', async () => {
  const { MessageChannel } = await import('node:worker_threads');
  const { serveJobPort: serve } = await import('../compute/protocol');
  const { nodeJobPort } = await import('../testing/node-job-port');
  const wrap = (p: MessagePort) => ({
    raw: p,
    postMessage: (m: unknown) => p.postMessage(m),
    on: (event: string, l: Listener) => (event === 'message' ? p.on('message', (data) => l({ data, ports: [] })) : p.on(event, l)),
    start: () => p.start(),
    close: () => p.close(),
  });
  class MessageChannelMain {
    port1: ReturnType<typeof wrap>;
    port2: ReturnType<typeof wrap>;
    constructor() {
      const c = new MessageChannel();
      this.port1 = wrap(c.port1);
      this.port2 = wrap(c.port2);
    }
  }
  class BrowserWindow {
    private readonly r: (typeof rec.windows)[number];
    webContents: { on(e: string, l: Listener): void; postMessage(channel: string, m: unknown, ports: { raw: MessagePort }[]): void };
    constructor(options: Record<string, unknown>) {
      this.r = { options, destroyed: false, events: new Map(), contents: new Map() };
      rec.windows.push(this.r);
      this.webContents = {
        on: (e, l) => void this.r.contents.set(e, l),
        // the page: serves each port it is handed with its job table
        postMessage: (_channel, _m, ports) => {
          const p = ports[0]!.raw;
          rec.page.ports.push(p);
          serve(nodeJobPort(p), rec.page.jobs as never);
        },
      };
    }
    on(e: string, l: Listener): void {
      this.r.events.set(e, l);
    }
    async loadURL(url: string): Promise<void> {
      this.r.url = url;
    }
    isDestroyed(): boolean {
      return this.r.destroyed;
    }
    destroy(): void {
      this.r.destroyed = true;
    }
  }
  return { app: { commandLine: { appendSwitch: vi.fn() } }, BrowserWindow, MessageChannelMain };
});

const { gpuWindowHost } = await import('./gpu-window');

const hardware: GpuAdapterSummary = { vendor: 'apple', architecture: 'metal-3', device: '', description: '', api: 'Metal', software: false, maxBufferSize: 2 ** 32 };
const swiftshader: GpuAdapterSummary = { vendor: 'google', architecture: 'swiftshader', device: '', description: '', api: 'Vulkan', software: true, maxBufferSize: 2 ** 28 };

/** a job that reports it started and then waits, honouring cancel, as a long training does */
const waits: JobBody<never, unknown, unknown> = async (side) => {
  side.post('started');
  while (!rec.page.closed) {
    await side.checkpoint();
    await new Promise((r) => setTimeout(r, 5));
  }
};

function page(adapter: { adapter: GpuAdapterSummary } | { none: string }): void {
  rec.page.closed = false;
  rec.page.jobs = { adapter: async () => adapter, waits, echo: async (side: { data: unknown }) => side.data };
}

const host = (answerWithinMs?: number) => gpuWindowHost('app://dino/gpu/index.html', '/app/out/preload/gpu.cjs', { sandbox: true, contextIsolation: true, nodeIntegration: false }, answerWithinMs);

describe('the GPU window (Electron glue)', () => {
  const backendBefore = process.env.DINO_BACKEND;
  afterEach(() => {
    rec.windows.length = 0;
    rec.page.closed = true;
    for (const p of rec.page.ports.splice(0)) p.close();
    if (backendBefore === undefined) delete process.env.DINO_BACKEND;
    else process.env.DINO_BACKEND = backendBefore;
  });

  it('is a hidden, sandboxed window whose adapter the app takes, and runs jobs over a port each', async () => {
    page({ adapter: hardware });
    const h = host();
    const w = (await h.get()) as GpuWindow;
    expect(w.adapter).toEqual(hardware);
    expect(rec.windows).toHaveLength(1);
    expect(rec.windows[0]!.url).toBe('app://dino/gpu/index.html');
    expect(rec.windows[0]!.options).toMatchObject({ show: false, webPreferences: { sandbox: true, contextIsolation: true, nodeIntegration: false, backgroundThrottling: false, preload: '/app/out/preload/gpu.cjs' } });
    const channel = w.openJob();
    channel.post({ type: 'start', kind: 'echo', data: { n: 42 } });
    await expect(runJob(channel, undefined, () => undefined)).resolves.toEqual({ n: 42 });
    // asked again, the same window
    expect(await h.get()).toBe(w);
    expect(rec.windows).toHaveLength(1);
    h.close();
    expect(rec.windows[0]!.destroyed).toBe(true);
  });

  it('passes over a software adapter unless DINO_BACKEND=webgpu asks for it, and says so when there is none', async () => {
    delete process.env.DINO_BACKEND;
    page({ adapter: swiftshader });
    expect(await host().get()).toMatch(/^only a software adapter \(webgpu \(google swiftshader, Dawn Vulkan, software adapter\)\), far slower than wasm/);
    expect(rec.windows[0]!.destroyed).toBe(true);
    process.env.DINO_BACKEND = 'webgpu';
    expect(((await host().get()) as GpuWindow).adapter).toEqual(swiftshader);
    page({ none: 'WebGPU found no adapter' });
    expect(await host().get()).toMatch(/^no adapter \(WebGPU found no adapter(; on Linux it needs a Vulkan driver.*)?\)$/);
    // a page that never answers
    rec.page.jobs = { adapter: () => new Promise(() => undefined) };
    expect(await host(50).get()).toBe('did not start: its page did not answer within 0.05 s');
    expect(rec.windows.at(-1)!.destroyed).toBe(true);
  });

  it('fails a running job with what happened when the window crashes, and opens a new window for the next', async () => {
    page({ adapter: hardware });
    const h = host();
    const w = (await h.get()) as GpuWindow;
    const channel = w.openJob();
    channel.post({ type: 'start', kind: 'waits', data: null });
    const events: unknown[] = [];
    const job = runJob(channel, undefined, (e) => events.push(e));
    job.catch(() => undefined);
    await vi.waitFor(() => expect(events).toEqual(['started']));
    rec.windows[0]!.contents.get('render-process-gone')!({}, { reason: 'crashed', exitCode: 133 });
    await expect(job).rejects.toThrow(ComputeLostError);
    await expect(job).rejects.toThrow('The GPU window stopped (crashed, exit code 133)');
    const again = (await h.get()) as GpuWindow;
    expect(again).not.toBe(w);
    expect(rec.windows).toHaveLength(2);
    const echo = again.openJob();
    echo.post({ type: 'start', kind: 'echo', data: 'alive' });
    await expect(runJob(echo, undefined, () => undefined)).resolves.toBe('alive');
    h.close();
  });
});
