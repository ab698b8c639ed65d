import { initBackend } from '../../dino/runtime/node/backend';
import { measureTrainStep } from '../../dino/runtime/node/measure';
import type { DinoConfig } from '../../dino/train/presets';
import { workerMain } from '../worker-side';

export interface CalibrateWorkerData {
  presets: { name: string; config: DinoConfig }[];
}

export type CalibrateWorkerEvent = { type: 'timed'; preset: string; msPerStep: number; backend: string };

// Two warm-up steps (the first two of a fresh process ran 2-5x slower than the later ones here: kernel
// set-up, the wasm heap growing) and the median of three timed ones: ~2 s for cpu-patch8, ~20 s for a
// ViT-S/16 fine-tune on a CPU.
workerMain<CalibrateWorkerData, CalibrateWorkerEvent, { timed: number }>(async (side) => {
  const backend = await initBackend();
  let timed = 0;
  for (const p of side.data.presets) {
    await side.checkpoint();
    const t = await measureTrainStep(p.config, 3, 2);
    side.post({ type: 'timed', preset: p.name, msPerStep: t.msPerStep, backend: backend.description });
    timed++;
  }
  return { timed };
});
