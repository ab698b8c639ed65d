import { createRequire } from 'node:module';
import { loadNativeBlas } from '../../native/blas/index.js';
import { nativeBlasHint } from './native-hint';

const require = createRequire(import.meta.url);

function installed(pkg: string): boolean {
  try {
    require.resolve(`${pkg}/package.json`);
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

/**
 * Which compute backend training and embedding will use, without loading tfjs in this thread (the
 * workers load it): the same order as dino/backend.ts. Honest about the one thing it cannot know
 * without loading: whether an installed tfjs-node-gpu finds CUDA.
 */
export function probeBackend(): { name: 'tensorflow' | 'wasm' | 'cpu'; description: string; gpu: boolean; hint?: string } {
  const forced = process.env.DINO_BACKEND;
  if (forced === 'cpu') return { name: 'cpu', description: 'cpu (pure JavaScript, slow: tests only)', gpu: false };
  if (forced !== 'wasm') {
    if (installed('@tensorflow/tfjs-node-gpu')) return { name: 'tensorflow', description: 'tensorflow (tfjs-node-gpu, CUDA)', gpu: true };
    if (installed('@tensorflow/tfjs-node')) return { name: 'tensorflow', description: 'tensorflow (tfjs-node, native CPU)', gpu: false };
  }
  const native = nativeBlas();
  // without the addon: a short name, and what to install for the ~4x faster path
  if (!native) return { name: 'wasm', description: 'CPU (wasm)', gpu: false, hint: nativeBlasHint() };
  return { name: 'wasm', description: `wasm (tfjs-backend-wasm, SIMD, 1 thread)${native}`, gpu: false };
}
