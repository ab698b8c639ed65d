import { runAnalysisTask, type AnalysisEvent, type AnalysisResult, type AnalysisTask } from './analysis-tasks';
import type { JobContext } from '../jobs/job-runner';
import { workerModule } from './worker-entries';
import { runInWorker } from './worker-host';

/** What an analysis step needs of its job: progress and a cancel checkpoint (a full JobContext when in a job). */
export type Progress = Pick<JobContext, 'progress' | 'checkpoint'> & Partial<JobContext>;

const CANCEL_KILL_MS = 300;

/** Runs an analysis task in a worker thread (default) or on this thread, reporting progress to the job. */
export async function runTask(task: AnalysisTask, ctx: Progress, inWorker: boolean): Promise<AnalysisResult> {
  const onEvent = (e: AnalysisEvent): void => ctx.progress({ phase: e.phase, done: e.done, total: e.total });
  if (!inWorker) return runAnalysisTask(task, onEvent, () => ctx.signal?.aborted ?? false);
  const job = ctx.signal && ctx.onPauseChange && ctx.id ? (ctx as JobContext) : undefined;
  // a task is one synchronous computation, which reads the cancel message only between its phases:
  // its thread is stopped instead (it holds nothing to save), so a cancel answers within a second
  return runInWorker<AnalysisTask, AnalysisEvent, AnalysisResult>(workerModule('analysis-worker'), task, job, onEvent, { killAfterMs: CANCEL_KILL_MS });
}
