/**
 * Embedding throughput (img/s) of ViT-S/16 at 224 px (the official DINO model) on the active backend,
 * against the same model in PyTorch in the same run where /usr/bin/python3 has torch (OpenBLAS,
 * OMP_WAIT_POLICY=PASSIVE), at equal thread counts: with the native BLAS kernels, ours at 1 thread
 * against PyTorch at 1, and at the core count against PyTorch at the core count (before, ours ran
 * on 2 BLAS threads against PyTorch on 1). The ratio is our time per image over PyTorch's.
 */
import * as tf from '@tensorflow/tfjs-core';
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '../dino/runtime/node/backend';
import { embedImages } from '../dino/embed';
import { disposeNet } from '../dino/model/net';
import { Rng } from '../dino/rng';
import { nativeKernelsActive, setNativeThreads } from '../dino/runtime/node/native-kernels';
import { initVitParams, vitConfig } from '../dino/model/vit';
import { ratio, type Benchmark, type BenchResult } from './types';

const script = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'scripts', 'bench', 'torch_embed_bench.py');

function torchImgPerSec(batch: number, batches: number, threads: number, log: (m: string) => void): number | null {
  const t = String(threads);
  const r = spawnSync('/usr/bin/python3', [script, JSON.stringify({ dim: 384, depth: 12, heads: 6, patch: 16, img: 224, batch, batches, threads })], {
    encoding: 'utf8',
    env: { ...process.env, OMP_WAIT_POLICY: 'PASSIVE', OMP_NUM_THREADS: t, OPENBLAS_NUM_THREADS: t },
    timeout: 10 * 60_000,
  });
  if (r.status !== 0) {
    log(`  PyTorch baseline unavailable: ${(r.stderr || r.error?.message || '').trim().split('\n').pop() ?? ''}`);
    return null;
  }
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { img_per_sec: number; blas: string };
  log(`  PyTorch (${out.blas}, ${threads} thread${threads > 1 ? 's' : ''}): ${out.img_per_sec.toFixed(2)} img/s`);
  return out.img_per_sec;
}

export const benchmark: Benchmark = {
  name: 'embed',
  description: 'ViT-S/16 embedding at 224 px: img/s on the active backend vs PyTorch',
  async run({ log, quick }) {
    const backend = await initBackend();
    const batch = quick ? 4 : 16;
    const batches = quick ? 1 : 2;
    const vit = vitConfig('vit_small', 16, 224);
    // the backbone alone: embedding never runs the head
    const net = { config: { vit, head: { inDim: 384, outDim: 0, hiddenDim: 0, bottleneckDim: 0, nlayers: 0, normLastLayer: true } }, params: initVitParams(vit, new Rng(0)) };
    const rng = new Rng(1);
    const images = Array.from({ length: batch }, () => {
      const rgb = new Uint8Array(320 * 256 * 3);
      for (let i = 0; i < rgb.length; i++) rgb[i] = Math.floor(rng.next() * 256);
      return { rgb, width: 320, height: 256 };
    });
    // the thread counts to compare at: the native kernels' own (1 and the core count), else the backend's
    const native = backend.name === 'wasm' ? nativeKernelsActive() : null;
    const cores = Math.max(1, cpus().length);
    const threadCounts = native ? [...new Set([1, cores])] : [backend.name === 'wasm' ? 1 : cores];
    const threadsBefore = native?.threads;
    const results: BenchResult[] = [];
    try {
      for (const threads of threadCounts) {
        if (native) setNativeThreads(threads);
        await embedImages(net, images.slice(0, 2), { batchSize: 2 }); // warm-up: kernels compiled, weights uploaded
        const t0 = performance.now();
        for (let i = 0; i < batches; i++) await embedImages(net, images, { batchSize: batch });
        const ours = (batch * batches * 1000) / (performance.now() - t0);
        const label = `${threads} thread${threads > 1 ? 's' : ''}`;
        log(`  ours (${backend.description}, ${label}): ${ours.toFixed(2)} img/s`);
        const torch = torchImgPerSec(batch, batches, threads, log);
        // costs are time per image: ours / baseline's
        results.push({
          name: `embed vit_small/16 224px (${label})`,
          value: 1000 / ours,
          unit: 'ms/img',
          baseline: `PyTorch (${label})`,
          baselineValue: torch ? 1000 / torch : null,
          ratio: ratio(1000 / ours, torch ? 1000 / torch : null),
          extra: { imgPerSec: ours, backend: backend.description, threads, ...(torch ? { torchImgPerSec: torch } : {}), numTensors: tf.memory().numTensors },
        });
      }
      if (threadsBefore !== undefined) setNativeThreads(threadsBefore);
      return results;
    } finally {
      disposeNet(net);
    }
  },
};
