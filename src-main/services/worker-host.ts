import { Worker, type WorkerOptions } from 'node:worker_threads';
import { CancelledError, type JobContext } from './jobs';

/** Messages a worker sends its host. */
export type FromWorker<TEvent, TResult> =
  | { type: 'event'; event: TEvent }
  | { type: 'result'; result: TResult }
  | { type: 'error'; message: string; stack?: string };

/** Messages the host sends its worker. */
export type ToWorker = { type: 'cancel' } | { type: 'pause' } | { type: 'resume' };

/**
 * Starts a worker thread on a module (see worker-entries.ts) with `workerData: { module, data }`. A
 * bundled .js module is started as it is; a TypeScript source goes through worker-bootstrap.js,
 * which registers tsx in the new thread first (a checkout, the tests).
 */
export function startWorker(module: URL, data: unknown, options: Omit<WorkerOptions, 'workerData'> = {}): Worker {
  const file = module.pathname.endsWith('.ts') ? new URL('./worker-bootstrap.js', import.meta.url) : module;
  return new Worker(file, { ...options, workerData: { module: module.href, data } });
}

/**
 * Runs a module in a worker thread so multi-second tensor work never blocks the caller's event loop
 * (Electron's main process, the web server). The job's cancel reaches the worker as a message and,
 * if it does not stop within `killAfterMs`, the thread is terminated.
 */
export function runInWorker<TData, TEvent, TResult>(
  module: URL,
  data: TData,
  job: JobContext | undefined,
  onEvent: (event: TEvent) => void,
  options: { killAfterMs?: number; resourceLimits?: { maxOldGenerationSizeMb?: number } } = {},
): Promise<TResult> {
  return new Promise<TResult>((resolve, reject) => {
    const worker = startWorker(module, data, { resourceLimits: options.resourceLimits, env: process.env });
    let settled = false;
    let killTimer: NodeJS.Timeout | undefined;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      if (killTimer) clearTimeout(killTimer);
      job?.signal.removeEventListener('abort', onAbort);
      unsubscribe?.();
      fn();
      void worker.terminate();
    };
    const onAbort = (): void => {
      worker.postMessage({ type: 'cancel' } satisfies ToWorker);
      killTimer = setTimeout(() => finish(() => reject(new CancelledError())), options.killAfterMs ?? 30_000);
    };
    job?.signal.addEventListener('abort', onAbort);
    const unsubscribe = job?.onPauseChange((paused) => worker.postMessage({ type: paused ? 'pause' : 'resume' } satisfies ToWorker));
    worker.on('message', (m: FromWorker<TEvent, TResult>) => {
      if (m.type === 'event') onEvent(m.event);
      else if (m.type === 'result') finish(() => resolve(m.result));
      else if (m.type === 'error') {
        finish(() => reject(m.message === 'cancelled' ? new CancelledError() : Object.assign(new Error(m.message), { workerStack: m.stack })));
      }
    });
    worker.on('error', (e) => finish(() => reject(e)));
    worker.on('exit', (code) => finish(() => reject(job?.signal.aborted ? new CancelledError() : new Error(`worker stopped unexpectedly (exit ${code})`))));
  });
}

