/**
 * Backend selection, once per process: `tensorflow` from @tensorflow/tfjs-node-gpu (CUDA), then from
 * @tensorflow/tfjs-node (native CPU), else `wasm` (SIMD). The native packages download libtensorflow at
 * install time and cannot install offline, so they are optional: imported dynamically, a failure just
 * moves on. On an offline machine a user can install them from a local copy of the libtensorflow
 * tarball: `TFJS_NODE_BASE_URI=file:///path/to/dir/ npm install @tensorflow/tfjs-node-gpu`.
 * `cpu` (pure JS, ~300x slower than wasm for training) is used only when asked for by name.
 */
import * as tf from '@tensorflow/tfjs-core';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { installNativeKernels } from './native-kernels';
import { installWasmKernels } from './wasm-kernels';

export type BackendChoice = 'tensorflow' | 'wasm' | 'cpu';

export interface BackendInfo {
  /** tfjs backend name: tensorflow | wasm | cpu */
  name: string;
  /** what a user should read: which package and device */
  description: string;
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

async function tryTensorflow(): Promise<BackendInfo | null> {
  for (const [pkg, desc] of [
    ['@tensorflow/tfjs-node-gpu', 'tensorflow (tfjs-node-gpu, CUDA)'],
    ['@tensorflow/tfjs-node', 'tensorflow (tfjs-node, native CPU)'],
  ] as const) {
    if ((await tryImport(pkg)) && (await tf.setBackend('tensorflow').catch(() => false))) {
      return { name: 'tensorflow', description: desc };
    }
  }
  return null;
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
    if (!native) return { name: 'wasm', description: base };
    // OpenBLAS's config is its whole build line; other libraries' is a short name (native/blas)
    const version = /OpenBLAS [\d.]+/.exec(native.config)?.[0] ?? (native.config || native.library);
    return { name: 'wasm', description: `${base} + native BLAS (${version}, ${native.threads} threads)` };
  } catch {
    return null;
  }
}

async function initCpu(): Promise<BackendInfo> {
  await import('@tensorflow/tfjs-backend-cpu');
  await tf.setBackend('cpu');
  return { name: 'cpu', description: 'cpu (pure JavaScript, slow: tests only)' };
}

function parseChoice(v: string | undefined): BackendChoice | undefined {
  if (!v) return undefined;
  if (v === 'tensorflow' || v === 'wasm' || v === 'cpu') return v;
  throw new Error(`DINO_BACKEND must be tensorflow, wasm or cpu, not "${v}"`);
}

async function select(choice: BackendChoice | undefined): Promise<BackendInfo> {
  await registerGradients();
  if (choice === 'cpu') return initCpu();
  if (choice === 'wasm') {
    const w = await initWasm();
    if (!w) throw new Error('the wasm backend failed to start');
    return w;
  }
  const native = await tryTensorflow();
  if (native) return native;
  if (choice === 'tensorflow') {
    throw new Error('backend "tensorflow" asked for but neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node loads');
  }
  const w = await initWasm();
  if (w) return w;
  throw new Error('no usable tfjs backend: tfjs-node(-gpu) absent and wasm failed to start');
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
