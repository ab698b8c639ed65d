/**
 * Backend selection, once per process, best first: `tensorflow` from @tensorflow/tfjs-node-gpu (CUDA),
 * `webgpu` on a hardware adapter (any GPU: Metal, D3D12, Vulkan, through Dawn's Node bindings, the
 * `webgpu` package), `tensorflow` from @tensorflow/tfjs-node (native CPU), else `wasm` (SIMD, with the
 * native BLAS addon when built). The tfjs-node packages download libtensorflow at install time and
 * cannot install offline, so they are optional: imported dynamically, a failure just moves on. On an
 * offline machine a user can install them from a local copy of the libtensorflow tarball:
 * `TFJS_NODE_BASE_URI=file:///path/to/dir/ npm install @tensorflow/tfjs-node-gpu`.
 * A software WebGPU adapter (SwiftShader, lavapipe) is used only when asked for by name
 * (DINO_BACKEND=webgpu): it is correct and far slower than wasm. Every backend that was passed over
 * says why in `fallbacks`. `cpu` (pure JS, ~300x slower than wasm for training) is used only when
 * asked for by name.
 */
import * as tf from '@tensorflow/tfjs-core';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { exposeNavigatorGpu, findDawnAdapter, loadDawn, NO_ADAPTER, webgpuUnavailableHere } from './dawn';
import { gpuFailure } from '../gpu-errors';
import { describeAdapter, softwareAdapterSkipped, summarizeAdapter, type GpuAdapterSummary } from '../gpu-adapter';
import { installNativeKernels } from './native-kernels';
import { installWasmKernels } from '../wasm-kernels';

export const BACKEND_CHOICES = ['tensorflow', 'webgpu', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

export interface BackendInfo {
  /** tfjs backend name: tensorflow | webgpu | wasm | cpu */
  name: BackendChoice;
  /** what a user should read: which package and device */
  description: string;
  /** runs on a GPU (CUDA or a hardware WebGPU adapter): GPU presets suit it */
  gpu: boolean;
  /** the WebGPU adapter, on webgpu */
  adapter?: GpuAdapterSummary;
  /** one line per better backend that was passed over, saying why */
  fallbacks: string[];
}

let active: BackendInfo | null = null;
let pending: Promise<BackendInfo> | null = null;

// tfjs-core registers no gradient functions in Node; tfjs-layers registers all of them on import.
let gradientsRegistered: Promise<unknown> | null = null;
function registerGradients(): Promise<unknown> {
  gradientsRegistered ??= import('@tensorflow/tfjs-layers');
  return gradientsRegistered;
}

async function tryImport(name: string): Promise<boolean> {
  try {
    // a variable specifier so bundlers and tsc do not require the optional package to exist
    await import(/* @vite-ignore */ name);
    return true;
  } catch {
    return false;
  }
}

async function tryTensorflow(pkg: '@tensorflow/tfjs-node-gpu' | '@tensorflow/tfjs-node'): Promise<BackendInfo | null> {
  const gpu = pkg === '@tensorflow/tfjs-node-gpu';
  if ((await tryImport(pkg)) && (await tf.setBackend('tensorflow').catch(() => false))) {
    return { name: 'tensorflow', description: gpu ? 'tensorflow (tfjs-node-gpu, CUDA)' : 'tensorflow (tfjs-node, native CPU)', gpu, fallbacks: [] };
  }
  return null;
}

// the running webgpu backend, taken up again when a process switches back to it (tests)
let webgpuInfo: BackendInfo | null = null;

/** Starts `webgpu`, or says why not. A software adapter only when `allowSoftware`. */
async function tryWebgpu(allowSoftware: boolean): Promise<BackendInfo | string> {
  const here = webgpuUnavailableHere();
  if (here) return `webgpu: ${here}`;
  if (webgpuInfo && !gpuFailure() && (allowSoftware || webgpuInfo.gpu) && (await tf.setBackend('webgpu'))) return webgpuInfo;
  try {
    const found = await findDawnAdapter(await loadDawn());
    if (!found) return `webgpu: ${NO_ADAPTER}`;
    // tfjs-backend-webgpu needs WebGPU's globals, installed by loadDawn: import it only now
    const { startWebgpuBackend } = await import('../gpu-device');
    const adapter = summarizeAdapter(found.adapter, found.api);
    if (adapter.software && !allowSoftware) {
      return `webgpu: ${softwareAdapterSkipped(adapter)}`;
    }
    exposeNavigatorGpu(found.gpu);
    await startWebgpuBackend(found.adapter);
    webgpuInfo = { name: 'webgpu', description: describeAdapter(adapter), gpu: !adapter.software, adapter, fallbacks: [] };
    return webgpuInfo;
  } catch (e) {
    return `webgpu: ${e instanceof Error ? e.message : String(e)}`;
  }
}

/**
 * Ends the webgpu backend, so the process can exit: a live Dawn device keeps Node's event loop
 * running (benchmarks, tests). The next initBackend selects again.
 */
export async function releaseWebgpu(): Promise<void> {
  if (!webgpuInfo) return;
  const { stopWebgpuBackend } = await import('../gpu-device');
  stopWebgpuBackend();
  webgpuInfo = null;
  if (active?.name === 'webgpu') active = null;
}

async function initWasm(): Promise<BackendInfo | null> {
  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    if (typeof process !== 'undefined' && process.versions?.node) {
      // in Node the .wasm files are read from the package folder, not fetched
      const req = createRequire(import.meta.url);
      const dist = dirname(req.resolve('@tensorflow/tfjs-backend-wasm/dist/index.js'));
      wasm.setWasmPaths(`${join(dist, '/')}`);
    }
    if (!(await tf.setBackend('wasm'))) return null;
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    const base = `wasm (tfjs-backend-wasm${simd ? ', SIMD' : ''}, 1 thread)`;
    installWasmKernels();
    // matMul / erf / exp in OpenBLAS through the optional addon (native/blas, npm run build:native);
    // DINO_NATIVE=0 keeps wasm's own kernels
    const native = process.env.DINO_NATIVE === '0' ? null : installNativeKernels();
    if (!native) return { name: 'wasm', description: base, gpu: false, fallbacks: [] };
    // OpenBLAS's config is its whole build line; other libraries' is a short name (native/blas)
    const version = /OpenBLAS [\d.]+/.exec(native.config)?.[0] ?? (native.config || native.library);
    return { name: 'wasm', description: `${base} + native BLAS (${version}, ${native.threads} threads)`, gpu: false, fallbacks: [] };
  } catch {
    return null;
  }
}

async function initCpu(): Promise<BackendInfo> {
  await import('@tensorflow/tfjs-backend-cpu');
  await tf.setBackend('cpu');
  return { name: 'cpu', description: 'cpu (pure JavaScript, slow: tests only)', gpu: false, fallbacks: [] };
}

export function parseChoice(v: string | undefined): BackendChoice | undefined {
  if (!v) return undefined;
  if ((BACKEND_CHOICES as readonly string[]).includes(v)) return v as BackendChoice;
  throw new Error(`DINO_BACKEND must be ${BACKEND_CHOICES.join(', ')}, not "${v}"`);
}

async function select(choice: BackendChoice | undefined): Promise<BackendInfo> {
  await registerGradients();
  if (choice === 'cpu') return initCpu();
  if (choice === 'wasm') {
    const w = await initWasm();
    if (!w) throw new Error('the wasm backend failed to start');
    return w;
  }
  if (choice === 'webgpu') {
    const g = await tryWebgpu(true);
    if (typeof g === 'string') throw new Error(`backend "webgpu" asked for but it cannot start: ${g.replace(/^webgpu: /, '')}`);
    return g;
  }
  const fallbacks: string[] = [];
  const cuda = await tryTensorflow('@tensorflow/tfjs-node-gpu');
  if (cuda) return cuda;
  if (choice !== 'tensorflow') {
    const g = await tryWebgpu(false);
    if (typeof g !== 'string') return g;
    fallbacks.push(g);
  }
  const native = await tryTensorflow('@tensorflow/tfjs-node');
  if (native) return { ...native, fallbacks };
  if (choice === 'tensorflow') {
    throw new Error('backend "tensorflow" asked for but neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node loads');
  }
  const w = await initWasm();
  if (w) return { ...w, fallbacks };
  throw new Error(`no usable tfjs backend: tfjs-node(-gpu) absent, ${fallbacks.join('; ')}, and wasm failed to start`);
}

/**
 * Picks and starts the backend; later calls return the first result. `choice` (or env DINO_BACKEND)
 * forces one; a different explicit choice after start switches backends (tests use `cpu` for tiny checks).
 */
export async function initBackend(choice?: BackendChoice): Promise<BackendInfo> {
  const wanted = choice ?? parseChoice(process.env.DINO_BACKEND);
  if (active && (!wanted || wanted === active.name)) return active;
  if (pending && !wanted) return pending;
  pending = select(wanted).then((info) => {
    active = info;
    return info;
  });
  try {
    return await pending;
  } finally {
    pending = null;
  }
}

/** The backend in use, or null before initBackend resolved. */
export function activeBackend(): BackendInfo | null {
  return active;
}
