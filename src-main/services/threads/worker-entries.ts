// Every worker thread the app starts, by name. The build reads this list (electron.vite.config.ts
// emits each entry as out/main/<name>.js, beside index.js and cli.js) and call sites get a worker's
// module from workerModule(name), so adding a worker is one line here.
import { fromBundle } from '../catalog/app-files';

/** worker name -> its TypeScript source, relative to the checkout's root */
export const WORKER_ENTRIES = {
  'train-worker': 'src-main/services/training/train-worker.ts',
  'embed-worker': 'src-main/services/embedding/embed-worker.ts',
  'warm-embed-worker': 'src-main/services/embedding/warm-embed-worker.ts',
  'crop-worker': 'src-main/services/threads/crop-worker.ts',
  'analysis-worker': 'src-main/services/threads/analysis-worker.ts',
  'quality-worker': 'src-main/services/quality/quality-worker.ts',
  'calibrate-worker': 'src-main/services/training/calibrate-worker.ts',
  'weights-worker': 'src-main/services/models/weights-worker.ts',
} as const;

export type WorkerName = keyof typeof WORKER_ENTRIES;

/**
 * A worker's module: out/main/<name>.js in the build (every entry and chunk sits in that one flat
 * folder, so the name resolves from whichever chunk this code lands in), or its TypeScript source
 * from a checkout, which worker-host starts through tsx.
 */
export function workerModule(name: WorkerName): URL {
  return fromBundle ? new URL(`./${name}.js`, import.meta.url) : new URL(`../../../${WORKER_ENTRIES[name]}`, import.meta.url);
}
