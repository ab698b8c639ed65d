import { cpus } from 'node:os';
import type { Worker } from 'node:worker_threads';
import type { RgbImage } from '../dino/train/augment';
import { inlineCropper, type BatchCropper, type CropArrays, type CropSpec } from '../dino/train/crops';
import { nativeKernelsActive, setNativeThreads } from '../dino/runtime/node/native-kernels';
import { workerModule } from './worker-entries';
import { startWorker } from './worker-host';

export interface CropRequest {
  id: number;
  it: number;
  images: RgbImage[];
}
/** `ms`: how long the worker took to make them */
export type CropReply = { id: number; parts: CropArrays[]; ms: number } | { id: number; error: string };

/** Bytes that can be posted (or transferred) without cloning a larger buffer they are a view of. */
export function ownBytes(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
}

function own(img: RgbImage): RgbImage {
  return { rgb: ownBytes(img.rgb), width: img.width, height: img.height };
}

export interface ThreadCropper extends BatchCropper {
  /** false once the worker has failed and the crops are made on the calling thread */
  readonly threaded: boolean;
  /** the worker's time for its last batch (ms; 0 before the first) */
  readonly cropMs: number;
}

/**
 * Makes a training run's crops in a worker thread of their own, so the next step's crops are ready
 * when the current step ends (dino/train/crops.ts). The images are copied to the worker per request (~1 MB
 * a batch at the working size). If the worker fails, the crops are made on the calling thread from
 * then on (the same crops: they depend only on the seed and the iteration), so training goes on.
 */
export function threadCropper(spec: CropSpec, module: URL = workerModule('crop-worker')): ThreadCropper {
  let nextId = 0;
  let closed = false;
  let worker: Worker | null = null;
  let cropMs = 0;
  const waiting = new Map<number, { it: number; images: readonly RgbImage[]; resolve(p: CropArrays[]): void; reject(e: Error): void }>();
  const local = inlineCropper(spec);
  const fallBack = (): void => {
    worker = null;
    for (const w of waiting.values()) local.make(w.images, w.it).then(w.resolve, w.reject);
    waiting.clear();
  };
  try {
    const w = startWorker(module, spec);
    w.on('message', (m: CropReply) => {
      const req = waiting.get(m.id);
      if (!req) return;
      waiting.delete(m.id);
      if ('error' in m) req.reject(new Error(`making crops: ${m.error}`));
      else {
        cropMs = m.ms;
        req.resolve(m.parts);
      }
    });
    w.on('error', fallBack);
    w.on('exit', () => {
      if (!closed) fallBack();
    });
    worker = w;
  } catch {
    worker = null;
  }
  return {
    get threaded() {
      return worker !== null;
    },
    get cropMs() {
      return cropMs;
    },
    make(images, it) {
      if (closed) return Promise.reject(new Error('the cropper was closed'));
      const w = worker;
      if (!w) return local.make(images, it);
      const id = nextId++;
      return new Promise<CropArrays[]>((resolve, reject) => {
        waiting.set(id, { it, images, resolve, reject });
        w.postMessage({ id, it, images: images.map(own) } satisfies CropRequest);
      });
    },
    close() {
      closed = true;
      for (const w of waiting.values()) w.reject(new Error('the cropper was closed'));
      waiting.clear();
      void worker?.terminate();
    },
  };
}

/**
 * How many BLAS threads to keep once a run's crops are made in a worker, or null to keep them all.
 * On few cores OpenBLAS's threads and the crop worker compete for them: measured on 2 vCPUs with
 * cpu-narrow, 2 BLAS threads + the worker take 627 ms a step and 1 BLAS thread + the worker 477 ms
 * (a second BLAS thread gains nothing at that size: 680 against 679 ms with the crops inline). A
 * large model (ViT-S at 224 px) uses every BLAS thread and its crops are, by estimate, ~1 % of a step. So BLAS
 * leaves the worker a core when its crops take more than a tenth of a step.
 */
export function blasThreadsBesideCrops(cropMs: number, stepMs: number, cores: number): number | null {
  if (cores < 2 || cropMs <= 0.1 * stepMs) return null;
  return cores - 1;
}

/**
 * Applies blasThreadsBesideCrops once, after the first steps have shown what a step and its crops
 * cost (call it after every step); unless DINO_BLAS_THREADS fixes the count. Returns the new BLAS
 * thread count when it changed it.
 */
export function coreSharing(cores = cpus().length): (cropper: ThreadCropper | null, stepMs: number) => number | null {
  let steps = 0;
  return (cropper, stepMs) => {
    if (++steps !== 3 || !cropper?.threaded || !nativeKernelsActive() || process.env.DINO_BLAS_THREADS) return null;
    const n = blasThreadsBesideCrops(cropper.cropMs, stepMs, cores);
    if (n !== null) setNativeThreads(n);
    return n;
  };
}
