/**
 * The GPU figures of issue 20, on the active GPU backend (`npm run bench -- gpu --backend webgpu`):
 * square fp32 matMul GFLOP/s at 1024 and 4096; img/s of the DINO ViT-S/16 step (2 x 224 + 10 x 96
 * crops, K 65536, the largest batch that fits as one micro-batch); img/s of ViT-S/16 embedding at
 * 224 px (crops uploaded as bytes, normalised on the GPU; the CPU-side resize is left out on both
 * sides); the GPU memory each took (tfjs's buffer pool, which keeps every buffer it made: its peak).
 * In the same run, where /usr/bin/python3 (or DINO_BENCH_PYTHON) has torch with CUDA, the identical
 * step and embedding in PyTorch on the same GPU, fp32 and AMP, and its matMul: each ratio printed.
 * A software adapter gives no figures (correctness only); DINO_BENCH_SOFTWARE=1 runs tiny sizes on one
 * to exercise this code. DINO_BENCH_GPU_BATCH fixes the step's batch.
 */
import * as tf from '@tensorflow/tfjs-core';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { initBackend, releaseWebgpu, type BackendInfo } from '../dino/runtime/node/backend';
import { queueEmbeddingOf } from '../dino/embed';
import { GpuError, readValues } from '../dino/runtime/gpu-errors';
import { gpuMemoryBudget, gpuStepBytes } from '../dino/train/gpu-memory';
import { imageBatch } from '../dino/runtime/image-batch';
import { measureTrainStep } from '../dino/runtime/node/measure';
import { netConfigs } from '../dino/train/net-configs';
import { disposeNet } from '../dino/model/net';
import { getPreset, withOverrides, type DinoConfig } from '../dino/train/presets';
import { Rng } from '../dino/rng';
import { initVitParams, vitConfig } from '../dino/model/vit';
import { repoRoot } from '../testing/repo-root';
import { ratio, type Benchmark, type BenchResult } from './types';

const script = join(repoRoot, 'scripts', 'bench', 'torch_gpu_bench.py');

type TorchOut = { ms_per_step?: number; img_per_sec?: number; gflops?: number; peak_mb: number; device: string };

/** PyTorch on CUDA, or null (and why, logged) where there is none. */
function torch(arg: Record<string, unknown>, log: (m: string) => void): TorchOut | null {
  const python = process.env.DINO_BENCH_PYTHON ?? '/usr/bin/python3';
  const r = spawnSync(python, [script, JSON.stringify(arg)], { encoding: 'utf8', timeout: 20 * 60_000 });
  if (r.status !== 0) {
    const why = r.status === 3 ? 'no CUDA' : (r.stderr || r.error?.message || '').trim().split('\n').pop();
    log(`  PyTorch ${String(arg.what)}${arg.amp ? ' AMP' : ''} unavailable: ${why ?? ''}`);
    return null;
  }
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as TorchOut;
}

const poolMb = (): number => ((tf.memory() as tf.MemoryInfo & { numBytesAllocatedInGPU?: number }).numBytesAllocatedInGPU ?? 0) / 2 ** 20;

/** A fresh device for each figure, so each pool measures one thing (and a failed size leaves nothing). */
async function freshBackend(): Promise<BackendInfo> {
  await releaseWebgpu();
  return initBackend();
}

async function matMulGflops(n: number, reps: number): Promise<number> {
  const [a, b] = [tf.randomNormal([n, n], 0, 1, 'float32', 1), tf.randomNormal([n, n], 0, 1, 'float32', 2)];
  const run = async (k: number): Promise<number> => {
    const t0 = performance.now();
    let last: tf.Tensor | null = null;
    for (let i = 0; i < k; i++) {
      last?.dispose();
      last = tf.matMul(a, b);
    }
    const corner = tf.slice(last!, [0, 0], [1, 1]);
    await readValues(corner);
    tf.dispose([corner, last!]);
    return performance.now() - t0;
  };
  await run(2); // shaders compiled
  const ms = await run(reps);
  tf.dispose([a, b]);
  return (2 * n ** 3 * reps) / (ms / 1000) / 1e9;
}

async function embedImgPerSec(batch: number, batches: number, tiny: boolean): Promise<number> {
  const size = tiny ? 32 : 224;
  const vit = tiny ? { ...vitConfig('vit_small', 16, size), depth: 1 } : vitConfig('vit_small', 16, size);
  // the backbone alone: embedding never runs the head
  const net = { config: { vit, head: { inDim: 384, outDim: 0, hiddenDim: 0, bottleneckDim: 0, nlayers: 0, normLastLayer: true } }, params: initVitParams(vit, new Rng(0)) };
  const rng = new Rng(1);
  const bytes = new Uint8Array(batch * size * size * 3).map(() => rng.int(0, 256));
  const run = async (k: number): Promise<number> => {
    const t0 = performance.now();
    let before: Promise<unknown> | null = null;
    for (let i = 0; i < k; i++) {
      const queued = queueEmbeddingOf(net, imageBatch(bytes, [batch, size, size, 3]));
      await before;
      before = queued;
    }
    await before;
    return performance.now() - t0;
  };
  try {
    await run(1);
    return (batch * batches * 1000) / (await run(batches));
  } finally {
    disposeNet(net);
  }
}

/** ViT-S/16 DINO at the official crops, K 65536, no stochastic depth (the PyTorch reference has none). */
function stepConfig(batch: number, tiny: boolean): DinoConfig {
  const base = withOverrides(getPreset('gpu-small').config, { batchSize: batch, accumSteps: 1, dropPathRate: 0 });
  return tiny ? withOverrides(base, { depth: 1, globalSize: 32, localSize: 16, imgSize: 32, nLocal: 2, outDim: 256, hiddenDim: 64 }) : base;
}

function torchStepArg(c: DinoConfig): Record<string, unknown> {
  const v = netConfigs(c).student.vit;
  return {
    what: 'step', img_size: c.imgSize, patch: c.patchSize, embed_dim: v.embedDim, depth: v.depth, heads: v.numHeads, out_dim: c.outDim,
    hidden: c.hiddenDim, bottleneck: c.bottleneckDim, nlayers: c.nlayers, batch: c.batchSize, global_size: c.globalSize,
    local_size: c.localSize, n_local: c.nLocal, steps: 5,
  };
}

export const benchmark: Benchmark = {
  name: 'gpu',
  description: 'GPU backend: matMul GFLOP/s, ViT-S/16 DINO step and embedding img/s, peak GPU memory, vs PyTorch on the same GPU (fp32, AMP)',
  async run({ log, quick }) {
    let backend = await initBackend();
    const software = backend.name === 'webgpu' && !backend.gpu && process.env.DINO_BENCH_SOFTWARE === '1';
    if (!backend.gpu && !software) {
      log(`  not a GPU backend (${backend.description}): nothing to time. ${backend.fallbacks.join('; ')}`);
      return [];
    }
    if (software) log('  software adapter: tiny sizes to exercise the code; these are no GPU figures');
    log(`  backend: ${backend.description}`);
    const results: BenchResult[] = [];
    /**
     * A rate (img/s, GFLOP/s) and PyTorch's, logged as rates and their ratio (ours / PyTorch's: the
     * issue's goals are >= 1/3 for the step and >= 1/2 for embedding); stored as costs, as every
     * benchmark's results are (ms per image or per matMul; ratio below 1 beats the baseline).
     */
    const add = (name: string, rate: number, rateUnit: string, per: number, costUnit: string, base: number | undefined, label: string, extra: Record<string, number | string>) => {
      log(`  ${name}: ${rate.toFixed(2)} ${rateUnit}${base ? `; ${label} ${base.toFixed(2)} ${rateUnit}; ours / PyTorch ${(rate / base).toFixed(3)}` : ''}`);
      const cost = (r: number) => (1000 * per) / r;
      results.push({
        name: `${name} (${backend.description})`,
        value: cost(rate),
        unit: costUnit,
        baseline: label,
        baselineValue: base ? cost(base) : null,
        ratio: ratio(cost(rate), base ? cost(base) : null),
        extra: { [rateUnit]: rate, ...extra },
      });
    };

    for (const n of software ? [256] : [1024, 4096]) {
      backend = await freshBackend();
      const ours = await matMulGflops(n, quick ? 5 : 20);
      const t = torch({ what: 'matmul', n, reps: 20 }, log);
      add(`matMul ${n}x${n} fp32`, ours, 'GFLOP/s', (2 * n ** 3) / 1e9, 'ms', t?.gflops, 'PyTorch fp32', { gpuPoolMb: poolMb(), ...(t ? { torchDevice: t.device } : {}) });
    }

    // the largest batch (one micro-batch) whose estimated step fits the adapter, smaller on an out-of-memory error
    const budget = gpuMemoryBudget(backend.adapter?.maxBufferSize ?? 8 * 2 ** 30, process.env);
    const fixed = Number(process.env.DINO_BENCH_GPU_BATCH);
    let batch = fixed > 0 ? fixed : ([64, 32, 16, 8, 4, 2].find((b) => gpuStepBytes(stepConfig(b, software)) <= budget) ?? 2);
    if (software) batch = Math.min(batch, 4);
    for (;;) {
      backend = await freshBackend();
      const c = stepConfig(batch, software);
      try {
        const what = `DINO step ${c.arch}/${c.patchSize}${c.depth ? ` depth ${c.depth}` : ''} 2x${c.globalSize}+${c.nLocal}x${c.localSize} K ${c.outDim} batch ${batch}`;
        log(`  ${what}...`);
        const s = await measureTrainStep(c, quick || software ? 2 : 5, 1);
        const fp32 = torch(torchStepArg(c), log);
        const amp = torch({ ...torchStepArg(c), amp: true }, log);
        const extra = { batch, gpuPoolMb: s.gpuAllocatedMb ?? 0, ...(fp32 ? { torchPeakMb: fp32.peak_mb } : {}), ...(amp ? { torchAmpImgPerSec: amp.img_per_sec!, torchAmpPeakMb: amp.peak_mb } : {}) };
        add(what, s.imgPerSec, 'img/s', 1, 'ms/img', fp32?.img_per_sec, 'PyTorch fp32', extra);
        if (amp) add(`${what}, against AMP`, s.imgPerSec, 'img/s', 1, 'ms/img', amp.img_per_sec, 'PyTorch AMP', extra);
        break;
      } catch (e) {
        if (!(e instanceof GpuError) || e.kind !== 'out-of-memory' || batch <= 2 || fixed > 0) throw e;
        log(`  batch ${batch} does not fit (${e.message.split('.')[0]}); trying ${batch / 2}`);
        batch /= 2;
      }
    }

    backend = await freshBackend();
    const eb = software ? 2 : 64;
    const ours = await embedImgPerSec(eb, software ? 1 : quick ? 3 : 10, software);
    const pool = poolMb();
    const base = { what: 'embed', dim: 384, depth: 12, heads: 6, patch: 16, img: 224, batch: eb, batches: 10 };
    const fp32 = software ? null : torch(base, log);
    const amp = software ? null : torch({ ...base, amp: true }, log);
    const extra = { batch: eb, gpuPoolMb: pool, ...(fp32 ? { torchPeakMb: fp32.peak_mb } : {}) };
    const embedWhat = software ? 'embed vit_small/16 depth 1 32px' : 'embed vit_small/16 224px';
    add(embedWhat, ours, 'img/s', 1, 'ms/img', fp32?.img_per_sec, 'PyTorch fp32', extra);
    if (amp) add(`${embedWhat}, against AMP`, ours, 'img/s', 1, 'ms/img', amp.img_per_sec, 'PyTorch AMP', extra);
    await releaseWebgpu();
    return results;
  },
};
