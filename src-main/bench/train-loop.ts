/**
 * The whole training loop of the default CPU preset (crops + step, as a run does it) in ms/step, with
 * the multi-crop augmentation in a worker thread that works one step ahead (and BLAS leaving it a core
 * where that pays), against the same loop making its crops on the training thread between steps
 * with every BLAS thread (the baseline). Synthetic photos at the working size a run decodes to
 * (128 x 96), so no files are read.
 */
import { cpus } from 'node:os';
import { initBackend } from '../dino/runtime/node/backend';
import { defaultPresetName, getPreset } from '../dino/train/presets';
import { Rng } from '../dino/rng';
import { trainDino, type SourceImage } from '../dino/train/trainer';
import type { StepMetrics } from '../dino/train/step-metrics';
import { nativeKernelsActive, setNativeThreads } from '../dino/runtime/node/native-kernels';
import { coreSharing, threadCropper, type ThreadCropper } from '../services/threads/crop-thread';
import { ratio, type Benchmark, type BenchResult } from './types';

function photos(n: number): SourceImage[] {
  const r = new Rng(11);
  return Array.from({ length: n }, (_, id) => {
    const rgb = new Uint8Array(128 * 96 * 3);
    for (let i = 0; i < rgb.length; i++) rgb[i] = r.int(0, 256);
    return { id, rgb, width: 128, height: 96 };
  });
}

export const benchmark: Benchmark = {
  name: 'train-loop',
  description: 'training loop of the default CPU preset (crops + step): crops made in a worker one step ahead vs on the training thread',
  async run({ log, quick }) {
    const backend = await initBackend();
    const preset = defaultPresetName(backend.description);
    const config = getPreset(preset).config;
    const steps = quick ? 4 : 12;
    // the first 3 steps also settle the BLAS thread count
    const warmup = 3;
    const data = photos(config.batchSize * 4);
    const source = (epoch: number, skip: number): AsyncIterable<SourceImage> =>
      (async function* () {
        for (let i = skip; i < data.length; i++) yield data[i]!;
      })();
    const threadsBefore = nativeKernelsActive()?.threads;
    const time = async (threaded: boolean): Promise<{ msPerStep: number; dataWait: number }> => {
      const ms: StepMetrics[] = [];
      let cropper: ThreadCropper | null = null;
      // as a run shares the cores between BLAS and the crop worker (services/workers/train-worker.ts)
      const shareCores = coreSharing();
      const onStep = (m: StepMetrics): void => {
        ms.push(m);
        const n = shareCores(cropper, m.msPerStep);
        if (n !== null) log(`  BLAS threads ${threadsBefore} -> ${n}, beside the crop worker`);
      };
      const r = await trainDino(config, source, { onStep }, {
        numImages: data.length,
        maxSteps: steps + warmup,
        cropper: threaded ? (spec) => (cropper = threadCropper(spec)) : undefined,
      });
      r.dispose();
      if (threadsBefore !== undefined) setNativeThreads(threadsBefore);
      const timed = ms.slice(warmup);
      const mean = (f: (m: StepMetrics) => number) => timed.reduce((a, m) => a + f(m), 0) / timed.length;
      return { msPerStep: mean((m) => m.msPerStep), dataWait: mean((m) => m.dataWaitFraction) };
    };
    const inline = await time(false);
    log(`  crops on the training thread: ${inline.msPerStep.toFixed(0)} ms/step, ${(100 * inline.dataWait).toFixed(0)} % waiting for data`);
    const worker = await time(true);
    log(`  crops in a worker: ${worker.msPerStep.toFixed(0)} ms/step, ${(100 * worker.dataWait).toFixed(0)} % waiting for data`);
    const result: BenchResult = {
      name: `train loop ${preset} (${backend.description})`,
      value: worker.msPerStep,
      unit: 'ms/step',
      baseline: 'crops on the training thread',
      baselineValue: inline.msPerStep,
      ratio: ratio(worker.msPerStep, inline.msPerStep),
      extra: {
        imgPerSec: (1000 * config.batchSize) / worker.msPerStep,
        dataWaitFraction: worker.dataWait,
        baselineDataWaitFraction: inline.dataWait,
        cores: cpus().length,
      },
    };
    return [result];
  },
};
