// The Electron GPU window's page: hidden, sandboxed, no Node. It runs training and embedding jobs on
// Chromium's WebGPU (Dawn under Metal, D3D12 or Vulkan), one MessagePort a job, speaking the workers'
// protocol (src-main/compute/). It imports the model code and tfjs, nothing of the UI and nothing that
// needs Node (eslint and gpu/imports.test.ts hold it to that).
import { gpuJobs } from '../../src-main/compute/gpu-jobs';
import { GPU_JOB_MESSAGE, serveJobPort, type JobBody } from '../../src-main/compute/protocol';
import { describeAdapter, summarizeAdapter, type GpuAdapterSummary } from '../../src-main/dino/runtime/gpu-adapter';
import { gpuFailure } from '../../src-main/dino/runtime/gpu-errors';

/** Chromium does not say which native API its Dawn runs on: each platform's own. */
function nativeApi(): string {
  const p = navigator.platform;
  if (/^Mac/i.test(p)) return 'Metal';
  if (/^Win/i.test(p)) return 'D3D12';
  return /Linux|X11|CrOS/i.test(p) ? 'Vulkan' : '';
}

async function requestAdapter(): Promise<GPUAdapter> {
  if (!navigator.gpu) throw new Error('this window has no WebGPU (navigator.gpu is missing)');
  const adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error('WebGPU found no adapter');
  return adapter;
}

let backend: Promise<string> | null = null;

/** tfjs on this window's GPU, started for the first job and again after a lost device. */
async function startBackend(): Promise<string> {
  if (backend && gpuFailure()) {
    const { stopWebgpuBackend } = await import('../../src-main/dino/runtime/gpu-device');
    stopWebgpuBackend();
    backend = null;
  }
  backend ??= (async () => {
    // tfjs-core registers no gradient functions; tfjs-layers registers them all
    await import('@tensorflow/tfjs-layers');
    const { startWebgpuBackend } = await import('../../src-main/dino/runtime/gpu-device');
    const adapter = await requestAdapter();
    await startWebgpuBackend(adapter);
    return `${describeAdapter(summarizeAdapter(adapter, nativeApi()))} in the GPU window`;
  })();
  backend.catch(() => (backend = null));
  return backend;
}

/** The adapter, for the main process to decide whether to use this window (no tfjs needed). */
const adapterJob: JobBody<never, unknown, { adapter: GpuAdapterSummary } | { none: string }> = async () => {
  try {
    return { adapter: summarizeAdapter(await requestAdapter(), nativeApi()) };
  } catch (e) {
    return { none: e instanceof Error ? e.message : String(e) };
  }
};

const jobs = { ...gpuJobs(startBackend), adapter: adapterJob };

window.addEventListener('message', (e) => {
  if (e.source !== window || e.origin !== location.origin || e.data !== GPU_JOB_MESSAGE || !e.ports[0]) return;
  serveJobPort(e.ports[0], jobs);
});
