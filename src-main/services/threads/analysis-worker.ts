import { runAnalysisTask, type AnalysisEvent, type AnalysisResult, type AnalysisTask } from './analysis-tasks';
import { workerMain } from './worker-side';

// The thread that runs clustering and the map's layout (see analysis-tasks.ts).
workerMain<AnalysisTask, AnalysisEvent, AnalysisResult>(async (side) => runAnalysisTask(side.data, (e) => side.post(e), () => side.cancelled));
