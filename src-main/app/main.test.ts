import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { INVOKE_CHANNELS } from '../../src-shared/api';

// main.ts against a recording stand-in for Electron's main-process modules (the real package is never
// loaded in tests): checks the window's security settings and the IPC and protocol wiring.
type Handler = (event: unknown, args: unknown) => Promise<unknown>;
const rec = vi.hoisted(() => ({
  windows: [] as { options: Record<string, unknown>; url?: string }[],
  ipc: new Map<string, Handler>(),
  protocols: new Map<string, (req: Request) => Promise<Response>>(),
  privileged: [] as unknown[],
  headers: [] as ((d: unknown, done: (r: { responseHeaders: Record<string, string[]> }) => void) => void)[],
  before: [] as ((d: { url: string }, done: (r: { cancel: boolean }) => void) => void)[],
  appEvents: new Map<string, ((...a: unknown[]) => void)[]>(),
  focused: 0,
  ready: null as null | Promise<void>,
  switches: [] as string[][],
}));

vi.mock('electron', () => {
  class BrowserWindow {
    webContents = { send: vi.fn(), on: vi.fn(), postMessage: vi.fn() };
    constructor(options: Record<string, unknown>) {
      rec.windows.push({ options });
    }
    once(): void {}
    on(): void {}
    isDestroyed(): boolean {
      return false;
    }
    isMinimized(): boolean {
      return true;
    }
    restore(): void {}
    show(): void {}
    focus(): void {
      rec.focused++;
    }
    destroy(): void {}
    async loadURL(url: string): Promise<void> {
      rec.windows.at(-1)!.url = url;
    }
    static getAllWindows(): unknown[] {
      return rec.windows;
    }
  }
  let resolveReady!: () => void;
  rec.ready = new Promise<void>((r) => (resolveReady = r));
  // the GPU window's job ports: nothing answers in this test (its page is app/gpu-window.test.ts's)
  class MessageChannelMain {
    port1 = { postMessage: vi.fn(), on: vi.fn(), start: vi.fn(), close: vi.fn() };
    port2 = {};
  }
  return {
    MessageChannelMain,
    app: {
      isPackaged: false,
      commandLine: { appendSwitch: (...a: string[]) => rec.switches.push(a) },
      whenReady: () => {
        resolveReady();
        return Promise.resolve();
      },
      on: (e: string, l: (...a: unknown[]) => void) => rec.appEvents.set(e, [...(rec.appEvents.get(e) ?? []), l]),
      quit: vi.fn(),
      exit: vi.fn(),
      // this process is the first instance
      requestSingleInstanceLock: () => true,
    },
    BrowserWindow,
    dialog: { showOpenDialog: vi.fn(async () => ({ canceled: true, filePaths: [] })), showErrorBox: vi.fn() },
    ipcMain: { handle: (c: string, h: Handler) => rec.ipc.set(c, h) },
    Menu: { buildFromTemplate: (t: unknown) => t, setApplicationMenu: vi.fn() },
    protocol: {
      registerSchemesAsPrivileged: (s: unknown[]) => rec.privileged.push(...s),
      handle: (scheme: string, h: (req: Request) => Promise<Response>) => rec.protocols.set(scheme, h),
    },
    session: {
      defaultSession: {
        setPermissionRequestHandler: vi.fn(),
        setPermissionCheckHandler: vi.fn(),
        webRequest: {
          onBeforeRequest: (l: (typeof rec.before)[number]) => rec.before.push(l),
          onHeadersReceived: (l: (typeof rec.headers)[number]) => rec.headers.push(l),
        },
      },
    },
  };
});

describe('electron main', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dino-app-'));
  const argv = process.argv;

  beforeAll(async () => {
    process.argv = [argv[0]!, 'out/main/index.js', `--catalog=${join(dir, 'catalog')}`];
    await import('./main');
    await rec.ready;
    await vi.waitFor(() => expect(rec.windows[0]?.url).toBeDefined());
  });

  afterAll(async () => {
    process.argv = argv;
    for (const l of rec.appEvents.get('before-quit') ?? []) l({ preventDefault: () => undefined });
    await new Promise((r) => setTimeout(r, 50));
    rmSync(dir, { recursive: true, force: true });
  });

  it('opens a sandboxed, context-isolated window without node integration, on app://', () => {
    const prefs = rec.windows[0]!.options.webPreferences as Record<string, unknown>;
    expect(prefs.contextIsolation).toBe(true);
    expect(prefs.sandbox).toBe(true);
    expect(prefs.nodeIntegration).toBe(false);
    expect(String(prefs.preload)).toMatch(/out[/\\]preload[/\\]index\.cjs$/);
    expect(rec.windows[0]!.url).toBe('app://dino/index.html');
  });

  it('opens the hidden GPU window as securely, with its own preload, and switches WebGPU on where Chromium needs it', async () => {
    await vi.waitFor(() => expect(rec.windows[1]?.url).toBeDefined());
    const gpu = rec.windows[1]!;
    expect(gpu.url).toBe('app://dino/gpu/index.html');
    expect(gpu.options.show).toBe(false);
    const prefs = gpu.options.webPreferences as Record<string, unknown>;
    expect(prefs).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, backgroundThrottling: false });
    expect(String(prefs.preload)).toMatch(/out[/\\]preload[/\\]gpu\.cjs$/);
    if (process.platform === 'linux') expect(rec.switches).toEqual([['enable-unsafe-webgpu'], ['enable-features', 'Vulkan']]);
    else expect(rec.switches).toEqual([]);
  });

  it('answers every invoke channel over IPC, only for its own page', async () => {
    expect([...rec.ipc.keys()].sort()).toEqual([...INVOKE_CHANNELS].sort());
    const own = { senderFrame: { url: 'app://dino/index.html' } };
    await expect(rec.ipc.get('jobs:list')!(own, {})).resolves.toEqual({ result: [] });
    const bad = await rec.ipc.get('jobs:cancel')!(own, { jobId: 5 });
    expect(bad).toMatchObject({ error: expect.stringMatching(/bad request/) });
    const foreign = { senderFrame: { url: 'https://evil.example/' } };
    await expect(rec.ipc.get('jobs:list')!(foreign, {})).resolves.toMatchObject({ error: expect.stringMatching(/refused/) });
  });

  it('is the one instance: a second launch brings its window to the front', () => {
    const before = rec.focused;
    for (const l of rec.appEvents.get('second-instance') ?? []) l();
    expect(rec.focused).toBe(before + 1);
  });

  it('serves photos by id only and blocks remote content', async () => {
    const photo = rec.protocols.get('dino-photo')!;
    expect((await photo(new Request('dino-photo://photo/999/thumb'))).status).toBe(404);
    expect((await photo(new Request('dino-photo://photo/..%2f..%2fetc%2fpasswd/full'))).status).toBe(404);
    const app = rec.protocols.get('app')!;
    expect((await app(new Request('app://dino/../../package.json'))).status).toBe(404);
    const decide = (url: string) => new Promise<boolean>((ok) => rec.before[0]!({ url }, (r) => ok(r.cancel)));
    expect(await decide('https://example.com/tracker.js')).toBe(true);
    expect(await decide('app://dino/index.html')).toBe(false);
    const csp = await new Promise<string>((ok) => rec.headers[0]!({ responseHeaders: {} }, (r) => ok(r.responseHeaders['Content-Security-Policy']![0]!)));
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain('dino-photo:');
    expect(csp).not.toContain('unsafe');
  });
});
