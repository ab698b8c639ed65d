import { createRequire } from 'node:module';
import { loadNativeBlas } from '../../native/blas/index.js';
import { findDawnAdapter, loadDawn, NO_ADAPTER, webgpuUnavailableHere } from '../dino/runtime/node/dawn';
import type { BackendOptionDTO } from '../../src-shared/api';
import { describeAdapter, softwareAdapterSkipped, summarizeAdapter, type GpuAdapterSummary } from '../dino/runtime/gpu-adapter';
import { nativeBlasHint } from './native-hint';
import { findGpuWindow, type GpuWindow } from './gpu-window';

const requireHere = createRequire(import.meta.url);

function installed(pkg: string): boolean {
  try {
    requireHere.resolve(`${pkg}/package.json`);
    return true;
  } catch {
    return false;
  }
}

let native: string | undefined;

/** ' + native BLAS (...)' when the optional addon is built and finds OpenBLAS (checked once). */
function nativeBlas(): string {
  if (process.env.DINO_NATIVE === '0') return '';
  if (native === undefined) {
    const blas = loadNativeBlas();
    native = blas ? ` + native BLAS (${blas.library})` : '';
  }
  return native;
}

let adapterProbe: Promise<GpuAdapterSummary | string> | undefined;

/**
 * The WebGPU adapter the workers will find, or why there is none (looked for once: an adapter only,
 * no device, so nothing stays open in this thread).
 */
function probeAdapter(): Promise<GpuAdapterSummary | string> {
  adapterProbe ??= (async () => {
    const here = webgpuUnavailableHere();
    if (here) return here;
    try {
      const found = await findDawnAdapter(await loadDawn());
      return found ? summarizeAdapter(found.adapter, found.api) : NO_ADAPTER;
    } catch (e) {
      return e instanceof Error ? e.message : String(e);
    }
  })();
  return adapterProbe;
}

/** The Settings choice of where training and embedding compute. */
export type BackendPreference = 'auto' | 'gpu' | 'cpu';

export interface ProbedBackend {
  name: 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
  description: string;
  /** a GPU backend (CUDA, or WebGPU on a hardware adapter): GPU presets suit it */
  gpu: boolean;
  /** the WebGPU adapter, on webgpu */
  adapter?: GpuAdapterSummary;
  /** one line per better backend passed over, saying why */
  fallbacks: string[];
  /** what to install for a faster backend (the native BLAS path on wasm alone) */
  hint?: string;
  /** Electron: the GPU window runs the jobs (else worker threads do) */
  window?: GpuWindow;
  /** the DINO_BACKEND a worker is given to land here (a Settings choice); unset, it picks as this probe did */
  workerBackend?: 'tensorflow' | 'wasm';
}

function WASM(): ProbedBackend {
  const native = nativeBlas();
  // without the addon: a short name, and what to install for the ~4x faster path
  if (!native) return { name: 'wasm', description: 'CPU (wasm)', gpu: false, fallbacks: [], hint: nativeBlasHint() };
  return { name: 'wasm', description: `wasm (tfjs-backend-wasm, SIMD, 1 thread)${native}`, gpu: false, fallbacks: [] };
}

/** The CPU backend: tfjs-node where it is installed without its CUDA twin (which would load instead), else wasm. */
function cpuBackend(fallbacks: string[]): ProbedBackend {
  if (installed('@tensorflow/tfjs-node') && !installed('@tensorflow/tfjs-node-gpu')) {
    return { name: 'tensorflow', description: 'tensorflow (tfjs-node, native CPU)', gpu: false, fallbacks, workerBackend: 'tensorflow' };
  }
  return { ...WASM(), fallbacks, workerBackend: 'wasm' };
}

/** The Electron GPU window as a backend, or why not (undefined: this face has none). */
async function windowBackend(): Promise<ProbedBackend | string | undefined> {
  const w = await findGpuWindow();
  if (w === null) return undefined;
  if (typeof w === 'string') return `webgpu (GPU window): ${w}`;
  return { name: 'webgpu', description: `${describeAdapter(w.adapter)} in the GPU window`, gpu: !w.adapter.software, adapter: w.adapter, fallbacks: [], window: w };
}

/**
 * Which compute backend training and embedding will use, without loading tfjs in this thread (the
 * workers load it): the same order and the same rules as dino/runtime/node/backend.ts, with Electron's GPU window
 * (which says for itself whether its adapter may be used) where Dawn cannot load. Honest about the
 * one thing it cannot know without loading: whether an installed tfjs-node-gpu finds CUDA.
 * `preference` is the Settings choice: `cpu` keeps off the GPU; `gpu` is `auto` that says why when no
 * GPU is usable. DINO_BACKEND overrides it.
 */
export async function probeBackend(preference: BackendPreference = 'auto'): Promise<ProbedBackend> {
  const forced = process.env.DINO_BACKEND;
  if (forced === 'cpu') return { name: 'cpu', description: 'cpu (pure JavaScript, slow: tests only)', gpu: false, fallbacks: [] };
  if (forced === 'wasm') return WASM();
  if (forced === 'webgpu') {
    const w = await windowBackend();
    if (w !== undefined) return typeof w === 'string' ? { name: 'webgpu', description: `webgpu asked for (DINO_BACKEND) but unavailable: ${w}`, gpu: false, fallbacks: [] } : w;
    const a = await probeAdapter();
    if (typeof a === 'string') return { name: 'webgpu', description: `webgpu asked for (DINO_BACKEND) but unavailable: ${a}`, gpu: false, fallbacks: [] };
    return { name: 'webgpu', description: describeAdapter(a), gpu: !a.software, adapter: a, fallbacks: [] };
  }
  if (preference === 'cpu' && !forced) return cpuBackend(['GPU: not used, Settings ask for the CPU']);
  if (installed('@tensorflow/tfjs-node-gpu')) return { name: 'tensorflow', description: 'tensorflow (tfjs-node-gpu, CUDA)', gpu: true, fallbacks: [] };
  const fallbacks: string[] = [];
  if (forced !== 'tensorflow') {
    // Electron: the GPU window, since Dawn's Node bindings cannot load there; elsewhere Dawn
    const w = await windowBackend();
    if (typeof w === 'object' && w.gpu) return w;
    if (w !== undefined) fallbacks.push(typeof w === 'string' ? w : `webgpu (GPU window): ${softwareAdapterSkipped(w.adapter!)}`);
    else {
      const a = await probeAdapter();
      if (typeof a !== 'string' && !a.software) return { name: 'webgpu', description: describeAdapter(a), gpu: true, adapter: a, fallbacks: [] };
      fallbacks.push(`webgpu: ${typeof a === 'string' ? a : softwareAdapterSkipped(a)}`);
    }
  }
  if (preference === 'gpu') fallbacks.push('GPU: asked for in Settings, but none is usable here (the lines above say why)');
  if (installed('@tensorflow/tfjs-node')) return { name: 'tensorflow', description: 'tensorflow (tfjs-node, native CPU)', gpu: false, fallbacks };
  return { ...WASM(), fallbacks };
}

/** A backend as a Settings choice reads: "GPU (apple metal-3, Metal)", "CPU (wasm + BLAS)". */
export function backendLabel(b: ProbedBackend): string {
  if (b.name === 'webgpu' && b.adapter) {
    const a = b.adapter;
    const what = [a.vendor, a.architecture].filter(Boolean).join(' ') || a.description || a.device || 'unknown adapter';
    return `GPU (${[what, a.api || 'WebGPU', a.software ? 'software' : ''].filter(Boolean).join(', ')})`;
  }
  if (b.name === 'tensorflow') return b.gpu ? 'GPU (CUDA, tfjs-node-gpu)' : 'CPU (tfjs-node)';
  if (b.name === 'wasm') return /native BLAS/.test(b.description) ? 'CPU (wasm + BLAS)' : 'CPU (wasm)';
  if (b.name === 'cpu') return 'CPU (pure JavaScript)';
  return b.description;
}

/** What the Settings backend picker offers on this machine: each choice with what it would run on. */
export async function backendOptions(): Promise<BackendOptionDTO[]> {
  const [auto, gpu, cpu] = await Promise.all([probeBackend('auto'), probeBackend('gpu'), probeBackend('cpu')]);
  const forced = process.env.DINO_BACKEND ? ` (DINO_BACKEND=${process.env.DINO_BACKEND} decides)` : '';
  return [
    { value: 'auto', label: `Automatic: ${backendLabel(auto)}`, available: true, detail: auto.description + forced },
    gpu.gpu
      ? { value: 'gpu', label: backendLabel(gpu), available: true, detail: gpu.description + forced }
      : { value: 'gpu', label: 'GPU: none usable here', available: false, detail: gpu.fallbacks.filter((f) => !f.startsWith('GPU:')).join('\n') || gpu.description },
    { value: 'cpu', label: backendLabel(cpu), available: true, detail: cpu.description + forced },
  ];
}
