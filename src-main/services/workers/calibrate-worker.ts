import { initBackend } from '../../dino/backend';
import { measureTrainStep } from '../../dino/measure';
import type { DinoConfig } from '../../dino/presets';
import { workerMain } from '../worker-side';

export interface CalibrateWorkerData {
  presets: { name: string; config: DinoConfig }[];
}

export type CalibrateWorkerEvent = { type: 'timed'; preset: string; msPerStep: number; backend: string };

// One warm-up step (kernel set-up, first allocations) and two timed ones per preset: a few seconds for
// the CPU presets, ~half a minute for a ViT-S/16 fine-tune on a CPU.
workerMain<CalibrateWorkerData, CalibrateWorkerEvent, { timed: number }>(async (side) => {
  const backend = await initBackend();
  let timed = 0;
  for (const p of side.data.presets) {
    await side.checkpoint();
    const t = measureTrainStep(p.config, 2, 1);
    side.post({ type: 'timed', preset: p.name, msPerStep: t.msPerStep, backend: backend.description });
    timed++;
  }
  return { timed };
});
