// The desktop face: a secure window over the same API table web mode serves. Everything here is
// Electron glue; the work happens in services/ behind api/.
import { app, BrowserWindow, dialog, ipcMain, Menu, protocol, session, type IpcMainInvokeEvent, type WebContents } from 'electron';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { EVENT_CHANNELS, INVOKE_CHANNELS, type EventChannel } from '../../src-shared/api';
import { apiModules } from '../api/modules';
import { createApi, dispatch, type ApiTable } from '../api/table';
import { defaultCatalogDir, openCatalog, type Catalog } from '../services/catalog/catalog';
import { provideGpuWindow } from '../services/threads/gpu-window-link';
import { readPhoto } from '../services/serving/photo-responses';
import { readStatic } from '../services/serving/static-files';
import { enableWebgpu, gpuWindowHost } from './gpu-window';
import { APP_HOST, APP_ORIGIN, APP_SCHEME, PHOTO_SCHEME, appContentSecurityPolicy } from './schemes';

// Built as out/main/index.js: the app's root (the checkout, or app.asar) is two folders up, where
// the built renderer and preload are too.
const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const rendererDir = resolve(repoRoot, 'out', 'renderer');
const preloadFile = resolve(repoRoot, 'out', 'preload', 'index.cjs');
const gpuPreloadFile = resolve(repoRoot, 'out', 'preload', 'gpu.cjs');
/** set by `electron-vite dev`; production loads the built files over app:// */
const devServer = process.env.ELECTRON_RENDERER_URL;
const csp = appContentSecurityPolicy(devServer);

// Privileged schemes must be registered before `ready`: standard + secure gives them a real origin.
protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
  { scheme: PHOTO_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
]);

// Training and embedding on Chromium's WebGPU, in a hidden window of its own (app/gpu-window.ts)
enableWebgpu();

/** every window of ours: the UI's and the hidden GPU window's */
const secureWebPreferences: Electron.WebPreferences = {
  contextIsolation: true,
  sandbox: true,
  nodeIntegration: false,
  webSecurity: true,
  allowRunningInsecureContent: false,
  spellcheck: false,
};
const gpu = gpuWindowHost(devServer ? new URL('gpu/index.html', devServer).href : `${APP_ORIGIN}/gpu/index.html`, gpuPreloadFile, secureWebPreferences);

let catalog: Catalog | null = null;
let table: ApiTable | null = null;
let window: BrowserWindow | null = null;

function catalogDir(): string {
  const { values } = parseArgs({ args: process.argv.slice(1), options: { catalog: { type: 'string' } }, strict: false, allowPositionals: true });
  return typeof values.catalog === 'string' ? resolve(values.catalog) : defaultCatalogDir();
}

function isAppUrl(url: string): boolean {
  return url.startsWith(`${APP_ORIGIN}/`) || (devServer !== undefined && url.startsWith(devServer));
}

/** IPC is answered only for our own page, never for a frame that navigated elsewhere. */
function trusted(event: IpcMainInvokeEvent): boolean {
  const url = event.senderFrame?.url;
  return url !== undefined && isAppUrl(url);
}

function securityHeaders(contentType: string): Record<string, string> {
  return { 'Content-Type': contentType, 'Content-Security-Policy': csp, 'X-Content-Type-Options': 'nosniff' };
}

function registerProtocols(): void {
  protocol.handle(APP_SCHEME, async (request) => {
    const url = new URL(request.url);
    if (url.host !== APP_HOST) return new Response('not found', { status: 404 });
    const file = await readStatic(rendererDir, url.pathname);
    if (!file) return new Response('not found', { status: 404 });
    return new Response(new Uint8Array(file.bytes), { headers: securityHeaders(file.contentType) });
  });
  // Photos by catalog id only: the renderer can never name a file path.
  protocol.handle(PHOTO_SCHEME, async (request) => {
    const m = /^\/(\d{1,15})\/(thumb|full)$/.exec(new URL(request.url).pathname);
    if (!m || !catalog) return new Response('not found', { status: 404 });
    const photo = await readPhoto(catalog, Number(m[1]), m[2] as 'thumb' | 'full');
    if (!photo) return new Response('no such photo', { status: 404 });
    // a full photo is streamed from its file, never read whole
    const body = photo.open();
    const stream = Buffer.isBuffer(body) ? new Uint8Array(body) : (Readable.toWeb(body) as ReadableStream<Uint8Array>);
    return new Response(stream, { headers: { 'Content-Type': photo.contentType, 'X-Content-Type-Options': 'nosniff' } });
  });
}

function lockDown(contents: WebContents): void {
  contents.on('will-navigate', (e, url) => {
    if (!isAppUrl(url)) e.preventDefault();
  });
  contents.on('will-redirect', (e, url) => {
    if (!isAppUrl(url)) e.preventDefault();
  });
  contents.on('will-attach-webview', (e) => e.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}

function hardenSession(): void {
  const s = session.defaultSession;
  s.setPermissionRequestHandler((_wc, _permission, grant) => grant(false));
  s.setPermissionCheckHandler(() => false);
  // No remote content: only our schemes (and the dev server while developing) may load.
  s.webRequest.onBeforeRequest((details, done) => {
    const ok = /^(app|dino-photo|devtools|data|blob|chrome-extension):/.test(details.url) || (devServer !== undefined && details.url.startsWith(new URL(devServer).origin)) || (devServer !== undefined && details.url.startsWith(`ws://${new URL(devServer).host}`));
    done({ cancel: !ok });
  });
  // The dev server's responses get the CSP here; app:// responses carry it themselves.
  s.webRequest.onHeadersReceived((details, done) => {
    done({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [csp], 'X-Content-Type-Options': ['nosniff'] } });
  });
}

function registerIpc(): void {
  for (const channel of INVOKE_CHANNELS) {
    ipcMain.handle(channel, async (event, args: unknown) => {
      if (!trusted(event)) return { error: 'refused: the request does not come from the app' };
      if (!table) return { error: 'the catalog is not open' };
      return dispatch(table, channel, args);
    });
  }
}

function forwardEvents(cat: Catalog): void {
  for (const channel of EVENT_CHANNELS) {
    const bus = cat.events as unknown as { on(c: EventChannel, l: (p: unknown) => void): void };
    bus.on(channel, (payload) => {
      if (window && !window.isDestroyed()) window.webContents.send(channel, payload);
    });
  }
}

function buildMenu(): void {
  const template: Electron.MenuItemConstructorOptions[] = [
    ...(process.platform === 'darwin' ? [{ role: 'appMenu' as const }] : []),
    { role: 'fileMenu' },
    { role: 'editMenu' },
    {
      label: 'View',
      submenu: [
        { role: 'resetZoom' }, { role: 'zoomIn' }, { role: 'zoomOut' }, { type: 'separator' }, { role: 'togglefullscreen' },
        ...(app.isPackaged ? [] : [{ role: 'toggleDevTools' as const }]),
      ],
    },
    { role: 'windowMenu' },
  ];
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}

async function createWindow(): Promise<void> {
  window = new BrowserWindow({
    width: 1280,
    height: 820,
    minWidth: 720,
    minHeight: 480,
    title: 'Dino Explorer',
    show: false,
    webPreferences: { ...secureWebPreferences, preload: preloadFile },
  });
  window.once('ready-to-show', () => window?.show());
  window.on('closed', () => {
    window = null;
    // the hidden GPU window must not keep the app open
    gpu.close();
  });
  await window.loadURL(devServer ?? `${APP_ORIGIN}/index.html`);
}

app.on('web-contents-created', (_e, contents) => lockDown(contents));

// One app per user: a second launch hands over to the first (which comes to the front) and quits,
// instead of opening the catalog a second time (the catalog's own lock would refuse it anyway).
if (!app.requestSingleInstanceLock()) app.quit();
app.on('second-instance', () => {
  if (!window) return;
  if (window.isMinimized()) window.restore();
  window.show();
  window.focus();
});

app.whenReady().then(async () => {
  hardenSession();
  registerProtocols();
  catalog = openCatalog(catalogDir(), { face: 'the Dino Explorer app' });
  table = createApi(catalog, {
    kind: 'electron',
    async pickFolder() {
      const options: Electron.OpenDialogOptions = { title: 'Choose a folder of photos', properties: ['openDirectory'] };
      const r = window ? await dialog.showOpenDialog(window, options) : await dialog.showOpenDialog(options);
      return r.canceled ? null : (r.filePaths[0] ?? null);
    },
  }, apiModules);
  forwardEvents(catalog);
  registerIpc();
  buildMenu();
  provideGpuWindow(gpu.get);
  await createWindow();
  // look for the adapter now, so the status bar names it
  void gpu.get();
  app.on('activate', () => {
    if (!window) void createWindow();
  });
}).catch((e: unknown) => {
  dialog.showErrorBox('Dino Explorer cannot start', e instanceof Error ? e.message : String(e));
  app.exit(1);
});

app.on('window-all-closed', () => app.quit());

// Close the catalog (cancel jobs, checkpoint WAL) before the process goes.
let closing = false;
app.on('before-quit', (e) => {
  if (!catalog || closing) return;
  e.preventDefault();
  closing = true;
  const c = catalog;
  catalog = null;
  table = null;
  void c.close().finally(() => app.quit());
});

