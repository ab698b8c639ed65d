import type { GpuAdapterSummary } from '../dino/runtime/gpu-adapter';
import type { JobChannel } from './job-channel';

/**
 * The Electron app's GPU window as the job layer sees it: a WebGPU adapter, and a port per job that
 * speaks the workers' protocol (compute/protocol.ts, compute/gpu-jobs.ts). Electron's main provides it
 * (app/gpu-window.ts); the other faces (CLI, web mode) have none: their workers reach the GPU through
 * Dawn's Node bindings. Tests provide a stand-in over Node's MessageChannel.
 */
export interface GpuWindow {
  adapter: GpuAdapterSummary;
  /** a channel for one job: the window is handed a port of its own and waits for the job's start */
  openJob(): JobChannel;
}

/** the GPU window, or why there is none (no adapter, only a software one, a page that failed to load) */
export type GpuWindowProbe = GpuWindow | string;

let provider: (() => Promise<GpuWindowProbe>) | null = null;

/** Electron's main sets where the GPU window comes from (started once, again after it was lost). */
export function provideGpuWindow(get: (() => Promise<GpuWindowProbe>) | null): void {
  provider = get;
}

/** The GPU window, why there is none, or null where this face has no GPU window at all. */
export async function findGpuWindow(): Promise<GpuWindowProbe | null> {
  if (!provider) return null;
  try {
    return await provider();
  } catch (e) {
    return `did not start: ${e instanceof Error ? e.message : String(e)}`;
  }
}
