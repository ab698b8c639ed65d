/**
 * DINO training step time on each available CPU path (wasm alone; wasm + native BLAS kernels, at one
 * thread and at the core count) in ms/step, img/s and peak RSS, against the identical step in PyTorch
 * (scripts/fixtures/torch_step_bench.py: same model, crops, loss, clipping, AdamW, EMA; OpenBLAS; the
 * same thread count; OMP_WAIT_POLICY=PASSIVE) where /usr/bin/python3 has torch. The first config is
 * the reference of issue 9: ViT-Tiny/16, batch 16, 2 x 96 + 6 x 48 crops, K 4096.
 * Goals (issue 9): best CPU path <= 1.5 x PyTorch, wasm alone <= 4 x, peak memory <= 1.5 GB.
 *
 * With DINO_BENCH_FINETUNE=1 it also times fine-tuning ViT-S/16 at 224 px with an effective batch of
 * 64 (gradient accumulation over micro-batches, the first blocks frozen) on the default path: seconds
 * per optimizer step and peak RSS (goal: within 8 GB). It takes minutes per step on a laptop-class
 * CPU, so it is off by default. DINO_BENCH_FINETUNE_MICRO (default 16) and DINO_BENCH_FINETUNE_FREEZE
 * (default 6) change the micro-batch size and the number of frozen blocks.
 */
import * as tf from '@tensorflow/tfjs-core';
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '../dino/runtime/node/backend';
import { measureTrainStep } from '../dino/runtime/node/measure';
import { netConfigs } from '../dino/train/net-configs';
import { installNativeKernels, setNativeThreads, uninstallNativeKernels } from '../dino/runtime/node/native-kernels';
import { getPreset, withOverrides, type DinoConfig } from '../dino/train/presets';
import { normalizeConfig } from '../dino/train/trainer';
import { ratio, type Benchmark, type BenchResult } from './types';

const script = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'scripts', 'fixtures', 'torch_step_bench.py');

function torchStepMs(c: DinoConfig, steps: number, threads: number, log: (m: string) => void): number | null {
  const v = netConfigs(c).student.vit;
  const arg = {
    img_size: c.imgSize,
    patch: c.patchSize,
    embed_dim: v.embedDim,
    depth: v.depth,
    heads: v.numHeads,
    out_dim: c.outDim,
    hidden: c.hiddenDim,
    bottleneck: c.bottleneckDim,
    nlayers: c.nlayers,
    batch: c.batchSize,
    global_size: c.globalSize,
    local_size: c.localSize,
    n_local: c.nLocal,
    steps,
    threads,
  };
  const t = String(threads);
  const r = spawnSync('/usr/bin/python3', [script, JSON.stringify(arg)], {
    encoding: 'utf8',
    env: { ...process.env, OMP_WAIT_POLICY: 'PASSIVE', OMP_NUM_THREADS: t, OPENBLAS_NUM_THREADS: t },
    timeout: 20 * 60_000,
  });
  if (r.status !== 0) {
    log(`  PyTorch baseline unavailable: ${(r.stderr || r.error?.message || '').trim().split('\n').pop() ?? ''}`);
    return null;
  }
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { ms_per_step: number; blas: string };
  log(`  PyTorch (${out.blas}, ${threads} thread${threads > 1 ? 's' : ''}): ${out.ms_per_step.toFixed(0)} ms/step`);
  return out.ms_per_step;
}

/**
 * Fine-tuning official ViT-S/16 weights (with their head, K 65536) at 224 px: 2 global 224 + 4 local
 * 96 px crops, an effective batch of 64 as 64 / micro micro-batches, the first `freeze` blocks frozen.
 */
export function fineTuneConfig(micro = 16, freeze = 6): DinoConfig {
  return normalizeConfig(
    withOverrides(getPreset('finetune-cpu').config, {
      arch: 'vit_small',
      patchSize: 16,
      depth: null,
      imgSize: 224,
      dropPathRate: 0,
      globalSize: 224,
      localSize: 96,
      nLocal: 4,
      outDim: 65536,
      hiddenDim: 2048,
      bottleneckDim: 256,
      nlayers: 3,
      batchSize: 64,
      accumSteps: 64 / micro,
      freezeBlocks: freeze,
    }),
  );
}

function envInt(name: string, fallback: number): number {
  const v = process.env[name];
  return v === undefined || v === '' ? fallback : Number.parseInt(v, 10);
}

interface CpuPath {
  name: string;
  threads: number;
  setup(): boolean;
}

export const benchmark: Benchmark = {
  name: 'train',
  description: 'DINO training step on each CPU path (wasm alone, wasm + native BLAS) vs the same step in PyTorch',
  async run({ log, quick }) {
    const backend = await initBackend();
    log(`  backend: ${backend.description}`);
    const configs: [string, DinoConfig][] = [
      ['vit_tiny/16 b16 2x96+6x48 K4096', withOverrides(getPreset('cpu-tiny').config, { hiddenDim: 2048 })],
      ['preset cpu-micro', getPreset('cpu-micro').config],
    ];
    const steps = quick ? 1 : 3;
    const cores = Math.max(1, cpus().length);
    // each path is timed against PyTorch at the same thread count: wasm runs on one thread
    const paths: CpuPath[] = [];
    if (backend.name === 'wasm') {
      paths.push({ name: 'wasm alone', threads: 1, setup: () => (uninstallNativeKernels(), true) });
      const native = process.env.DINO_NATIVE === '0' ? null : installNativeKernels();
      if (native) {
        const label = `wasm + native BLAS (${/OpenBLAS [\d.]+/.exec(native.config)?.[0] ?? native.library}`;
        if (!quick || cores === 1) {
          paths.push({ name: `${label}, 1 thread)`, threads: 1, setup: () => (installNativeKernels(), setNativeThreads(1), true) });
        }
        if (cores > 1) {
          paths.push({ name: `${label}, ${cores} threads)`, threads: cores, setup: () => (installNativeKernels(), setNativeThreads(cores), true) });
        }
      } else {
        log('  native BLAS kernels unavailable (npm run build:native): timing wasm alone');
      }
    } else {
      paths.push({ name: backend.description, threads: cores, setup: () => true });
    }
    const results: BenchResult[] = [];
    for (const [name, c] of quick ? configs.slice(0, 1) : configs) {
      const torch = new Map<number, number | null>();
      for (const p of paths) {
        p.setup();
        const t = await measureTrainStep(c, steps, 1);
        const heapMb = ((tf.backend() as unknown as { wasm?: { HEAPU8: Uint8Array } }).wasm?.HEAPU8.length ?? 0) / 2 ** 20;
        log(`  ${name}, ${p.name}: ${t.msPerStep.toFixed(0)} ms/step, ${t.imgPerSec.toFixed(2)} img/s, peak RSS ${t.peakRssMb.toFixed(0)} MB (process so far), wasm heap ${heapMb.toFixed(0)} MB`);
        if (!torch.has(p.threads)) torch.set(p.threads, torchStepMs(c, steps, p.threads, log));
        const base = torch.get(p.threads) ?? null;
        const r = ratio(t.msPerStep, base);
        if (r !== null) log(`    ratio to PyTorch (${p.threads} thread${p.threads > 1 ? 's' : ''}): ${r.toFixed(2)}`);
        results.push({
          name: `train step ${name} (${p.name})`,
          value: t.msPerStep,
          unit: 'ms/step',
          baseline: `PyTorch ${p.threads} thread${p.threads > 1 ? 's' : ''}`,
          baselineValue: base,
          ratio: r,
          extra: {
            imgPerSec: t.imgPerSec,
            peakRssMb: t.peakRssMb,
            wasmHeapMb: heapMb,
            secondsPerEpochPer1000: t.secondsPerEpochPer1000,
            backend: backend.description,
            path: p.name,
            threads: p.threads,
          },
        });
      }
    }
    // leave the process on its default path
    if (backend.name === 'wasm' && process.env.DINO_NATIVE !== '0') {
      installNativeKernels();
      setNativeThreads(cores);
    }
    if (process.env.DINO_BENCH_FINETUNE === '1') {
      const micro = envInt('DINO_BENCH_FINETUNE_MICRO', 16);
      const freeze = envInt('DINO_BENCH_FINETUNE_FREEZE', 6);
      const c = fineTuneConfig(micro, freeze);
      const name = `fine-tune vit_small/16 224 px, 2x224+${c.nLocal}x96, K ${c.outDim}, batch ${c.batchSize} = ${c.accumSteps} x ${micro}, ${freeze} blocks frozen`;
      log(`  ${name}: timing one optimizer step (minutes)...`);
      // one step, no warm-up: a step is minutes long, its one-off costs (heap growth, AdamW state) seconds
      const cpu0 = process.cpuUsage();
      const t = await measureTrainStep(c, 1, 0);
      // CPU time of every thread: on a shared machine it says more than the wall clock
      const cpu = process.cpuUsage(cpu0);
      const cpuSeconds = (cpu.user + cpu.system) / 1e6;
      const heapMb = ((tf.backend() as unknown as { wasm?: { HEAPU8: Uint8Array } }).wasm?.HEAPU8.length ?? 0) / 2 ** 20;
      log(
        `  ${name}: ${(t.msPerStep / 1000).toFixed(1)} s/step (${cpuSeconds.toFixed(0)} CPU s), ${t.imgPerSec.toFixed(2)} img/s, ` +
          `peak RSS ${t.peakRssMb.toFixed(0)} MB, wasm heap ${heapMb.toFixed(0)} MB`,
      );
      results.push({
        name: `train step ${name} (${backend.description})`,
        value: t.msPerStep / 1000,
        unit: 's/step',
        baseline: 'none (goal: peak RSS within 8 GB)',
        baselineValue: null,
        ratio: null,
        extra: { imgPerSec: t.imgPerSec, cpuSeconds, peakRssMb: t.peakRssMb, wasmHeapMb: heapMb, backend: backend.description, threads: cores },
      });
    }
    return results;
  },
};
