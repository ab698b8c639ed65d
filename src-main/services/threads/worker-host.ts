import { Worker, type WorkerOptions } from 'node:worker_threads';
import type { FromWorker } from '../../compute/protocol';
import { runJob, type JobChannel, type RunJobOptions } from './job-channel';
import type { JobContext } from '../jobs/job-runner';

export type { FromWorker, ToWorker } from '../../compute/protocol';

/**
 * Starts a worker thread on a module (see worker-entries.ts) with `workerData: { module, data }`. A
 * bundled .js module is started as it is; a TypeScript source goes through worker-bootstrap.js,
 * which registers tsx in the new thread first (a checkout, the tests).
 */
export function startWorker(module: URL, data: unknown, options: Omit<WorkerOptions, 'workerData'> = {}): Worker {
  const file = module.pathname.endsWith('.ts') ? new URL('./worker-bootstrap.js', import.meta.url) : module;
  return new Worker(file, { ...options, workerData: { module: module.href, data } });
}

/** A worker thread as a job channel: its error or exit before a result is the compute side's loss. */
function workerChannel(worker: Worker): JobChannel {
  return {
    post: (message, transfer) => worker.postMessage(message, transfer),
    listen({ message, gone }) {
      worker.on('message', (m: FromWorker<unknown, unknown>) => message(m));
      worker.on('error', gone);
      worker.on('exit', (code) => gone(new Error(`worker stopped unexpectedly (exit ${code})`)));
    },
    close: () => void worker.terminate(),
  };
}

export interface WorkerRunOptions {
  killAfterMs?: number;
  /** answers the worker's requests (job-channel.ts RunJobOptions) */
  serve?: RunJobOptions['serve'];
  resourceLimits?: { maxOldGenerationSizeMb?: number };
  /** the worker's environment (default: this process's) */
  env?: NodeJS.ProcessEnv;
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
  options: WorkerRunOptions = {},
): Promise<TResult> {
  const worker = startWorker(module, data, { resourceLimits: options.resourceLimits, env: options.env ?? process.env });
  return runJob<TEvent, TResult>(workerChannel(worker), job, onEvent, { killAfterMs: options.killAfterMs, serve: options.serve });
}
