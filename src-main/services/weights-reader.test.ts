/**
 * Weights are read in a worker: the main thread keeps its timers (the UI, the web server) running
 * while a large file is read, a cancel stops the read within a second, and a hostile file is refused
 * there with the reader's message.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exportWeights } from '../dino/weights/export';
import { PickleOps, stored, tupleKeyBomb, vitShapes, zipOf } from '../testing/hostile-weights';
import { numel, type TensorMap } from '../dino/weights/tensor-map';
import { CancelledError, Jobs } from './jobs';
import { readWeights } from '../dino/weights/model-loader';
import { readWeightsInWorker } from './weights-reader';

const tmp = mkdtempSync(join(tmpdir(), 'dino-weights-worker-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** a ViT-Small-sized backbone (21 M parameters, 86 MB as .pth) with random weights */
function vitSmall(): string {
  const tensors: TensorMap = new Map();
  let seed = 1;
  for (const [name, shape] of vitShapes(384, 12)) {
    // the MLP is 4x the width in a ViT-S, not the builder's 8
    const s = shape.map((d) => (d === 8 ? 1536 : d));
    const data = new Float32Array(numel(s));
    for (let i = 0; i < data.length; i += 97) data[i] = ((seed = (seed * 16807) % 2147483647) / 2147483647) * 0.02;
    tensors.set(name, { shape: s, data });
  }
  tensors.set('pos_embed', { shape: [1, 197, 384], data: new Float32Array(197 * 384) });
  tensors.set('patch_embed.proj.weight', { shape: [384, 3, 16, 16], data: new Float32Array(384 * 3 * 16 * 16) });
  const file = join(tmp, 'vit_small.pth');
  exportWeights(tensors, file, { format: 'pth', numHeads: 6 });
  return file;
}

describe('weights read in a worker', () => {
  const file = vitSmall();

  it('reads a ViT-S while the main thread keeps answering', async () => {
    // the baseline, in this run: the same read on this thread holds it this long (150-300 ms here)
    const t0 = performance.now();
    readWeights(file);
    const onMainThread = performance.now() - t0;
    let worst = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      worst = Math.max(worst, now - last);
      last = now;
    }, 10);
    try {
      const w = await readWeightsInWorker(file, 'full');
      expect(w.arch).toMatchObject({ arch: 'vit_small', embedDim: 384, depth: 12, patchSize: 16 });
      expect(w.config.vit.embedDim).toBe(384);
      expect(w.hasHead).toBe(false);
    } finally {
      clearInterval(timer);
    }
    // in the worker, no timer of this thread waited half as long
    expect(worst).toBeLessThan(onMainThread / 2);
  });

  it('stops within a second of a cancel', async () => {
    const jobs = new Jobs();
    const { id, promise } = jobs.start('download', (ctx) => readWeightsInWorker(file, 'full', ctx));
    await new Promise((r) => setTimeout(r, 300));
    const t0 = performance.now();
    jobs.cancel(id);
    await expect(promise).rejects.toBeInstanceOf(CancelledError);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(jobs.get(id)!.state).toBe('cancelled');
  });

  it('refuses a hostile file there, with the reader’s message', async () => {
    const bomb = join(tmp, 'tuple-key.pth');
    writeFileSync(bomb, zipOf([stored('archive/data.pkl', tupleKeyBomb(64))]));
    await expect(readWeightsInWorker(bomb, 'shapes')).rejects.toThrow(/dictionary key would be over 1024 characters/);
    const evil = join(tmp, 'evil.pth');
    writeFileSync(evil, zipOf([stored('archive/data.pkl', new PickleOps().global('os', 'system').end())]));
    await expect(readWeightsInWorker(evil, 'full')).rejects.toThrow(/refused to load: the pickle references the Python global 'os\.system'/);
  });
});
