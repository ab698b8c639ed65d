// The GPU window: a hidden, sandboxed BrowserWindow whose page (out/renderer/gpu/index.html) runs
// training and embedding on Chromium's WebGPU, because Dawn's Node bindings cannot load in Electron.
// Electron glue only: the job protocol, the jobs and the choice of backend live in compute/ and
// services/ (gpu-window.ts there is what this provides).
import { app, BrowserWindow, MessageChannelMain, type WebPreferences } from 'electron';
import { GPU_JOB_MESSAGE, type FromWorker } from '../compute/protocol';
import { softwareAdapterSkipped, type GpuAdapterSummary } from '../dino/runtime/gpu-adapter';
import type { GpuWindowProbe } from '../services/gpu-window';
import { ComputeLostError, runJob, type JobChannel } from '../services/job-channel';

/**
 * Before `ready`. Chromium's WebGPU is on by default on macOS (Metal) and Windows (D3D12); on Linux it
 * is behind a switch and needs Vulkan. The window is used only where an adapter then appears.
 */
export function enableWebgpu(): void {
  if (process.platform !== 'linux') return;
  app.commandLine.appendSwitch('enable-unsafe-webgpu');
  app.commandLine.appendSwitch('enable-features', 'Vulkan');
}

export interface GpuWindowHost {
  /** the window with its adapter, or why there is none; started on first use, again after it was lost */
  get(): Promise<GpuWindowProbe>;
  close(): void;
}

/**
 * `webPreferences` are the main window's (context isolation, sandbox, no Node); the window adds its
 * own preload, which only hands job ports to the page, and keeps its timers running while hidden.
 */
export function gpuWindowHost(url: string, preload: string, webPreferences: WebPreferences, answerWithinMs = 30_000): GpuWindowHost {
  let win: BrowserWindow | null = null;
  let probe: Promise<GpuWindowProbe> | null = null;
  const live = new Set<(e: Error) => void>();

  // every open job fails with what happened; the next job starts a new window
  const lose = (why: string): void => {
    win = null;
    probe = null;
    const error = new ComputeLostError(`The GPU window stopped (${why})`);
    for (const gone of [...live]) gone(error);
    live.clear();
  };

  const openJob = (w: BrowserWindow): JobChannel => {
    const { port1, port2 } = new MessageChannelMain();
    w.webContents.postMessage(GPU_JOB_MESSAGE, null, [port2]);
    let gone: ((e: Error) => void) | null = null;
    return {
      // across processes a message is copied once whatever the transfer list says: none is given
      post: (message) => port1.postMessage(message),
      listen(handlers) {
        gone = handlers.gone;
        live.add(gone);
        port1.on('message', (e) => handlers.message(e.data as FromWorker<unknown, unknown>));
        // a crash closes the port too: give render-process-gone a moment to say why
        port1.on('close', () => setTimeout(() => gone?.(new ComputeLostError("The GPU window closed the job's port")), 200));
        port1.start();
      },
      close() {
        if (gone) live.delete(gone);
        gone = null;
        port1.close();
      },
    };
  };

  const close = (): void => {
    const w = win;
    win = null;
    probe = null;
    if (w && !w.isDestroyed()) w.destroy();
  };

  const start = async (): Promise<GpuWindowProbe> => {
    const w = new BrowserWindow({ show: false, webPreferences: { ...webPreferences, preload, backgroundThrottling: false } });
    win = w;
    w.webContents.on('render-process-gone', (_e, details) => {
      if (win === w) lose(`${details.reason}, exit code ${details.exitCode}`);
    });
    w.on('closed', () => {
      if (win === w) lose('its window was closed');
    });
    await w.loadURL(url);
    const channel = openJob(w);
    channel.post({ type: 'start', kind: 'adapter', data: null });
    let timer: NodeJS.Timeout | undefined;
    // a page that never answers (its script failed to load) must not leave the app waiting
    const silent = new Promise<never>((_, fail) => {
      timer = setTimeout(() => {
        channel.close();
        fail(new Error(`its page did not answer within ${answerWithinMs / 1000} s`));
      }, answerWithinMs);
    });
    const found = await Promise.race([runJob<never, { adapter: GpuAdapterSummary } | { none: string }>(channel, undefined, () => undefined), silent]).finally(() => clearTimeout(timer));
    if ('none' in found) {
      close();
      const hint = process.platform === 'linux' ? "; on Linux it needs a Vulkan driver: mesa-vulkan-drivers (AMD, Intel) or NVIDIA's" : '';
      return `no adapter (${found.none}${hint})`;
    }
    // a software adapter (SwiftShader) is far slower than wasm: only when asked for by name
    if (found.adapter.software && process.env.DINO_BACKEND !== 'webgpu') {
      close();
      return softwareAdapterSkipped(found.adapter);
    }
    return { adapter: found.adapter, openJob: () => openJob(w) };
  };

  return {
    get() {
      probe ??= start().catch((e: unknown) => {
        close();
        return `did not start: ${e instanceof Error ? e.message : String(e)}`;
      });
      return probe;
    },
    close,
  };
}
