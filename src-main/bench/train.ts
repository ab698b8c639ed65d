/**
 * DINO training step time on each available CPU path (wasm alone; wasm + native BLAS kernels, at one
 * thread and at the core count) in ms/step, img/s and peak RSS, against the identical step in PyTorch
 * (scripts/fixtures/torch_step_bench.py: same model, crops, loss, clipping, AdamW, EMA; OpenBLAS; the
 * same thread count; OMP_WAIT_POLICY=PASSIVE) where /usr/bin/python3 has torch. The first config is
 * the reference of issue 9: ViT-Tiny/16, batch 16, 2 x 96 + 6 x 48 crops, K 4096.
 * Goals (issue 9): best CPU path <= 1.5 x PyTorch, wasm alone <= 4 x, peak memory <= 1.5 GB.
 */
import * as tf from '@tensorflow/tfjs-core';
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '../dino/backend';
import { measureTrainStep } from '../dino/measure';
import { netConfigs } from '../dino/model';
import { installNativeKernels, setNativeThreads, uninstallNativeKernels } from '../dino/native-kernels';
import { getPreset, withOverrides, type DinoConfig } from '../dino/presets';
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
        const t = measureTrainStep(c, steps, 1);
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
    return results;
  },
};
