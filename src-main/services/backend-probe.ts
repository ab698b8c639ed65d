import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

function installed(pkg: string): boolean {
  try {
    require.resolve(`${pkg}/package.json`);
    return true;
  } catch {
    return false;
  }
}

/**
 * Which compute backend training and embedding will use, without loading tfjs in this thread (the
 * workers load it): the same order as dino/backend.ts. Honest about the one thing it cannot know
 * without loading: whether an installed tfjs-node-gpu finds CUDA.
 */
export function probeBackend(): { name: 'tensorflow' | 'wasm' | 'cpu'; description: string; gpu: boolean } {
  const forced = process.env.DINO_BACKEND;
  if (forced === 'cpu') return { name: 'cpu', description: 'cpu (pure JavaScript, slow: tests only)', gpu: false };
  if (forced !== 'wasm') {
    if (installed('@tensorflow/tfjs-node-gpu')) return { name: 'tensorflow', description: 'tensorflow (tfjs-node-gpu, CUDA)', gpu: true };
    if (installed('@tensorflow/tfjs-node')) return { name: 'tensorflow', description: 'tensorflow (tfjs-node, native CPU)', gpu: false };
  }
  return { name: 'wasm', description: 'wasm (tfjs-backend-wasm, SIMD, 1 thread)', gpu: false };
}
