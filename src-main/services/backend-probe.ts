import { createRequire } from 'node:module';
import { loadNativeBlas } from '../../native/blas/index.js';
import { findDawnAdapter, loadDawn, NO_ADAPTER, webgpuUnavailableHere } from '../dino/dawn';
import { describeAdapter, softwareAdapterSkipped, summarizeAdapter, type GpuAdapterSummary } from '../dino/gpu-adapter';
import { nativeBlasHint } from './native-hint';

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
}

function WASM(): ProbedBackend {
  const native = nativeBlas();
  // without the addon: a short name, and what to install for the ~4x faster path
  if (!native) return { name: 'wasm', description: 'CPU (wasm)', gpu: false, fallbacks: [], hint: nativeBlasHint() };
  return { name: 'wasm', description: `wasm (tfjs-backend-wasm, SIMD, 1 thread)${native}`, gpu: false, fallbacks: [] };
}

/**
 * Which compute backend training and embedding will use, without loading tfjs in this thread (the
 * workers load it): the same order and the same rules as dino/backend.ts. Honest about the one thing
 * it cannot know without loading: whether an installed tfjs-node-gpu finds CUDA.
 */
export async function probeBackend(): Promise<ProbedBackend> {
  const forced = process.env.DINO_BACKEND;
  if (forced === 'cpu') return { name: 'cpu', description: 'cpu (pure JavaScript, slow: tests only)', gpu: false, fallbacks: [] };
  if (forced === 'wasm') return WASM();
  if (forced === 'webgpu') {
    const a = await probeAdapter();
    if (typeof a === 'string') return { name: 'webgpu', description: `webgpu asked for (DINO_BACKEND) but unavailable: ${a}`, gpu: false, fallbacks: [] };
    return { name: 'webgpu', description: describeAdapter(a), gpu: !a.software, adapter: a, fallbacks: [] };
  }
  if (installed('@tensorflow/tfjs-node-gpu')) return { name: 'tensorflow', description: 'tensorflow (tfjs-node-gpu, CUDA)', gpu: true, fallbacks: [] };
  const fallbacks: string[] = [];
  if (forced !== 'tensorflow') {
    const a = await probeAdapter();
    if (typeof a !== 'string' && !a.software) return { name: 'webgpu', description: describeAdapter(a), gpu: true, adapter: a, fallbacks: [] };
    fallbacks.push(`webgpu: ${typeof a === 'string' ? a : softwareAdapterSkipped(a)}`);
  }
  if (installed('@tensorflow/tfjs-node')) return { name: 'tensorflow', description: 'tensorflow (tfjs-node, native CPU)', gpu: false, fallbacks };
  return { ...WASM(), fallbacks };
}
