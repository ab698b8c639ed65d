import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli as cli } from '../cli-capture';
import type { TrainEvalResult } from './train-eval';

const repoRoot = resolve(import.meta.dirname, '..', '..', '..');
const caltech = resolve(repoRoot, '../shared/data/caltech10');
// Issue #3's "it learns" trains for ~10 min: train-eval.learn.test.ts, run when asked (`npm test -- learn`).

describe('dino-explorer train-eval', () => {
  it('trains for a step budget on caltech10 and prints k-NN20 for pixels, random init and the trained teacher', async () => {
    // 12 of the one-epoch schedule's 18 steps, evaluated after 6 and after 12
    const r = await cli(['train-eval', '--data', caltech, '--preset', 'cpu-micro', '--epochs', '1', '--steps', '12', '--points', '2', '--json']);
    expect(r.code).toBe(0);
    const j = r.json as unknown as TrainEvalResult;
    console.log(`caltech10 k-NN20 after ${j.steps} steps of ${j.preset}: ${j.curve.at(-1)!.knn20.toFixed(3)} (random init ${j.random.toFixed(3)}, pixels ${j.pixels.toFixed(3)})`);
    expect([j.n, j.classes, j.preset]).toEqual([600, 10, 'cpu-micro']);
    // one epoch is 18 steps (batch 32, the last partial batch dropped as in the official loader)
    expect(j.totalSteps).toBe(Math.floor(600 / 32));
    expect(j.steps).toBe(12);
    expect(j.curve.map((p) => p.steps)).toEqual([6, 12]);
    const last = j.curve[1]!;
    expect(Number.isFinite(last.loss)).toBe(true);
    for (const v of [j.random, j.pixels, last.knn20, last.knn10]) expect(v).toBeGreaterThan(0.1);
    // the set's known structure: a tiny image beats a random-init ViT by far on caltech10
    expect(j.pixels).toBeGreaterThan(j.random + 0.2);
  }, 1_200_000);
});
