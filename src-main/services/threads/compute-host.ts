import type { EmbedWorkerEvent, EmbedWorkerResult } from '../../compute/embed-job';
import type { TrainWorkerEvent, TrainWorkerResult } from '../../compute/train-job';
import { probeBackend, type BackendPreference, type ProbedBackend } from '../backends/backend-probe';
import type { JobContext } from '../jobs/job-runner';
import { workerModule } from './worker-entries';
import { runInWorker, type WorkerRunOptions } from './worker-host';
import type { EmbedWorkerData } from '../embedding/embed-worker';
import type { TrainWorkerData } from '../training/train-worker';

/**
 * Where a training or embedding job computes: a worker thread, or in the Electron app the GPU window
 * when it has the best backend (backend-probe.ts). Both take the same data and give the same events
 * and result, so the services above cannot tell which ran their job. The GPU window's halves read
 * weights and photos here, with the model code: loaded when such a job starts, never at the app's start.
 */

/** A worker's options for the backend the probe chose (a Settings choice reaches the worker as DINO_BACKEND). */
export function workerOptions(where: ProbedBackend, options: WorkerRunOptions): WorkerRunOptions {
  return where.workerBackend ? { ...options, env: { ...process.env, DINO_BACKEND: where.workerBackend } } : options;
}

export async function runTrainJob(
  preference: BackendPreference,
  data: TrainWorkerData,
  job: JobContext | undefined,
  onEvent: (e: TrainWorkerEvent) => void,
  options: WorkerRunOptions = {},
): Promise<TrainWorkerResult> {
  const where = await probeBackend(preference);
  if (where.window) return (await import('./window-train')).trainInGpuWindow(where.window, data, job, onEvent, options);
  return runInWorker(workerModule('train-worker'), data, job, onEvent, workerOptions(where, options));
}

export async function runEmbedJob(
  preference: BackendPreference,
  data: EmbedWorkerData,
  job: JobContext | undefined,
  onEvent: (e: EmbedWorkerEvent) => void,
  options: WorkerRunOptions = {},
): Promise<EmbedWorkerResult> {
  const where = await probeBackend(preference);
  if (where.window) return (await import('./window-embed')).embedInGpuWindow(where.window, data, job, onEvent);
  return runInWorker(workerModule('embed-worker'), data, job, onEvent, workerOptions(where, options));
}
