import type { NetConfig } from '../dino/model/net';
import type { ViTArchInfo } from '../dino/weights/inspect';
import { CancelledError, type JobContext } from './jobs';
import { workerModule } from './worker-entries';
import { runInWorker } from './worker-host';

// Weights files come from the user or the network, so they are read off the main thread: in a
// worker whose heap is capped (resourceLimits) and which a cancel terminates at once (reading is
// synchronous; a cancel message would wait for it). The reader bounds its own work by the file's
// size (dino/weights: pickle-budget, zip-file); the worker keeps the UI and the web server
// answering while it runs, and contains whatever a bound missed.

export interface WeightsWorkerData {
  file: string;
  /** 'shapes': the architecture only; 'full': every tensor read and checked, and the network config */
  read: 'shapes' | 'full';
}

export interface WeightsWorkerResult {
  arch: ViTArchInfo;
  config?: NetConfig;
  hasHead?: boolean;
}

/**
 * The pickle of a ViT-B full checkpoint needs a few MB of heap; 256 MB leaves a wide margin and
 * still stops a runaway read long before it could push the app out of memory.
 */
export const WEIGHTS_HEAP_MB = 256;

export async function readWeightsInWorker(file: string, read: 'shapes', job?: JobContext): Promise<{ arch: ViTArchInfo }>;
export async function readWeightsInWorker(file: string, read: 'full', job?: JobContext): Promise<Required<WeightsWorkerResult>>;
export async function readWeightsInWorker(file: string, read: 'shapes' | 'full', job?: JobContext): Promise<WeightsWorkerResult> {
  try {
    return await runInWorker<WeightsWorkerData, never, WeightsWorkerResult>(workerModule('weights-worker'), { file, read }, job, () => undefined, {
      killAfterMs: 0,
      resourceLimits: { maxOldGenerationSizeMb: WEIGHTS_HEAP_MB },
    });
  } catch (e) {
    if (e instanceof CancelledError) throw e;
    if ((e as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY') {
      throw new Error(`${file}: reading it needed more than ${WEIGHTS_HEAP_MB} MB of working memory, which no checkpoint this app reads does; refused`, { cause: e });
    }
    throw e;
  }
}
