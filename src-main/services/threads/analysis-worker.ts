import { runAnalysisTask, type AnalysisEvent, type AnalysisKind, type AnalysisResult, type AnalysisTask } from './analysis-tasks';
import { workerMain } from './worker-side';

// The thread that runs clustering, the map's layout, neighbour graphs and index builds (see analysis-tasks.ts).
workerMain<AnalysisTask, AnalysisEvent, AnalysisResult<AnalysisKind>>(async (side) => runAnalysisTask(side.data, (e) => side.post(e), () => side.cancelled));
