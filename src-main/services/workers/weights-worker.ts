import { loadDinoWeights } from '../../dino/weights/load';
import { readWeights } from '../../dino/weights/model-loader';
import type { WeightsWorkerData, WeightsWorkerResult } from '../weights-reader';
import { workerMain } from '../worker-side';

// The thread that reads a weights file the user chose or downloaded (weights-reader.ts): parsing a
// crafted pickle must never stall the main thread, and this thread's heap is capped.
workerMain<WeightsWorkerData, never, WeightsWorkerResult>(async (side) => {
  const { file, read } = side.data;
  const arch = loadDinoWeights(file, { shapesOnly: true }).arch;
  if (read === 'shapes') return { arch };
  // every tensor is read (and its CRC checked) so a damaged file fails here, not in a later job
  const w = readWeights(file);
  return { arch, config: w.config, hasHead: w.hasHead };
});
