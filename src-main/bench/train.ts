/**
 * DINO training step time on the active backend (ms/step, img/s, peak RSS) per config, against the
 * identical step in PyTorch (scripts/fixtures/torch_step_bench.py: same model, crops, loss, clipping,
 * AdamW, EMA; same thread count; OMP_WAIT_POLICY=PASSIVE) where /usr/bin/python3 has torch.
 * The first row is the reference config of issue 9: ViT-Tiny/16, batch 16, 2 x 96 + 6 x 48 crops, K 4096.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '../dino/backend';
import { measureTrainStep } from '../dino/measure';
import { netConfigs } from '../dino/model';
import { getPreset, withOverrides, type DinoConfig } from '../dino/presets';
import { ratio, type Benchmark, type BenchResult } from './types';

const script = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'scripts', 'fixtures', 'torch_step_bench.py');

function torchStepMs(c: DinoConfig, steps: number, log: (m: string) => void): number | null {
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
    // wasm runs on one thread: give torch the same
    threads: 1,
  };
  const r = spawnSync('/usr/bin/python3', [script, JSON.stringify(arg)], {
    encoding: 'utf8',
    env: { ...process.env, OMP_WAIT_POLICY: 'PASSIVE', OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' },
    timeout: 20 * 60_000,
  });
  if (r.status !== 0) {
    log(`  PyTorch baseline unavailable: ${(r.stderr || r.error?.message || '').trim().split('\n').pop() ?? ''}`);
    return null;
  }
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { ms_per_step: number; blas: string };
  log(`  PyTorch (${out.blas}, 1 thread): ${out.ms_per_step.toFixed(0)} ms/step`);
  return out.ms_per_step;
}

export const benchmark: Benchmark = {
  name: 'train',
  description: 'DINO training step on the active backend vs the same step in PyTorch',
  async run({ log, quick }) {
    const backend = await initBackend();
    log(`  backend: ${backend.description}`);
    const configs: [string, DinoConfig][] = [
      ['vit_tiny/16 b16 2x96+6x48 K4096', withOverrides(getPreset('cpu-tiny').config, { hiddenDim: 2048 })],
      ['preset cpu-micro', getPreset('cpu-micro').config],
    ];
    const steps = quick ? 1 : 3;
    const results: BenchResult[] = [];
    for (const [name, c] of quick ? configs.slice(0, 1) : configs) {
      const t = measureTrainStep(c, steps, 1);
      log(`  ${name}: ${t.msPerStep.toFixed(0)} ms/step, ${t.imgPerSec.toFixed(2)} img/s, peak RSS ${t.peakRssMb.toFixed(0)} MB`);
      const base = torchStepMs(c, steps, log);
      results.push({
        name: `train step ${name} (${backend.name})`,
        value: t.msPerStep,
        unit: 'ms/step',
        baseline: 'PyTorch 1 thread',
        baselineValue: base,
        ratio: ratio(t.msPerStep, base),
        extra: {
          imgPerSec: t.imgPerSec,
          peakRssMb: t.peakRssMb,
          secondsPerEpochPer1000: t.secondsPerEpochPer1000,
          backend: backend.description,
        },
      });
    }
    return results;
  },
};
