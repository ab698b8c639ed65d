import type { JobContext } from '../jobs/job-runner';
import { runAnalysisTask, type AnalysisArgs, type AnalysisEvent, type AnalysisKind, type AnalysisResult, type AnalysisTask } from './analysis-tasks';
import { workerModule } from './worker-entries';
import { runInWorker } from './worker-host';

/** What an analysis step needs of its job: progress and a cancel checkpoint (a full JobContext when in a job). */
export type Progress = Pick<JobContext, 'progress' | 'checkpoint'> & Partial<JobContext>;

export const noProgress: Progress = { progress: () => undefined, checkpoint: async () => undefined };

const CANCEL_KILL_MS = 300;

/**
 * Runs an analysis task in a worker thread or on this thread, reporting progress to the job; the
 * result's type follows the kind (analysis-tasks.ts AnalysisTasks).
 */
export async function runAnalysis<K extends AnalysisKind>(kind: K, args: AnalysisArgs<K>, ctx: Progress, inWorker: boolean): Promise<AnalysisResult<K>> {
  const task = { kind, args } as AnalysisTask<K>;
  const onEvent = (e: AnalysisEvent): void => ctx.progress({ phase: e.phase, done: e.done, total: e.total });
  if (!inWorker) return runAnalysisTask(task, onEvent, () => ctx.signal?.aborted ?? false);
  const job = ctx.signal && ctx.onPauseChange && ctx.id ? (ctx as JobContext) : undefined;
  // a task is one synchronous computation, which reads the cancel message only between its phases:
  // its thread is stopped instead (it holds nothing to save), so a cancel answers within a second
  return runInWorker<AnalysisTask<K>, AnalysisEvent, AnalysisResult<K>>(workerModule('analysis-worker'), task, job, onEvent, { killAfterMs: CANCEL_KILL_MS });
}
