/**
 * Issue 3's "it learns": DINO trained from scratch on caltech10 with a CPU preset, for a step budget
 * that fits CI, gives teacher [CLS] embeddings whose weighted 20-NN accuracy is clearly above the same
 * ViT at random initialisation. It also checks train-eval's mechanics: the budget split over two
 * evaluation points, pixels and random init scored on the same photos.
 *
 * ~8 min on 2 cores, so it runs as a stage of its own after the unit tests (vitest.learn.config.ts):
 * `npm test` runs it, `npm test -- learn` runs it alone. DINO_LEARN_PRESET and DINO_LEARN_STEPS
 * run another recipe or budget the same way (the bar then still applies).
 */
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli as cli } from '../../testing/cli-capture';
import type { TrainEvalResult } from '../../services/labelled-eval/learning-curve';

const repoRoot = resolve(import.meta.dirname, '..', '..', '..');
const caltech = resolve(repoRoot, '../shared/data/caltech10');
const preset = process.env.DINO_LEARN_PRESET ?? 'cpu-patch8';
// measured on caltech10 (src-main/dino/README.md): cpu-patch8 is ~0.04 above random init after 600 of
// its schedule's 1800 steps and ~0.07 above after 1200
const steps = Number(process.env.DINO_LEARN_STEPS ?? 1200);

describe('dino-explorer train-eval', () => {
  it(`learns: after ${steps} steps of ${preset} the teacher clearly beats random init on caltech10`, async () => {
    const r = await cli(['train-eval', '--data', caltech, '--preset', preset, '--steps', String(steps), '--points', '2', '--json']);
    expect(r.code).toBe(0);
    const j = r.json as unknown as TrainEvalResult;
    const [half, trained] = j.curve as [TrainEvalResult['curve'][number], TrainEvalResult['curve'][number]];
    console.log(
      `caltech10 k-NN20 of ${j.preset}: ${half.knn20.toFixed(3)} after ${half.steps} steps, ${trained.knn20.toFixed(3)} after ${trained.steps} ` +
        `of ${j.totalSteps}; random init ${j.random.toFixed(3)}, pixels ${j.pixels.toFixed(3)}; ${(j.seconds / 60).toFixed(1)} min in all`,
    );
    expect([j.n, j.classes, j.preset]).toEqual([600, 10, preset]);
    // the budget, split over the two points, within the preset's schedule (batch 32, the last partial
    // batch of each epoch dropped as in the official loader: 18 steps an epoch)
    expect(j.totalSteps % Math.floor(600 / 32)).toBe(0);
    expect(j.steps).toBe(Math.min(steps, j.totalSteps));
    expect(j.curve.map((p) => p.steps)).toEqual([Math.ceil(j.steps / 2), j.steps]);
    expect(Number.isFinite(trained.loss)).toBe(true);
    for (const v of [j.random, j.pixels, trained.knn20, trained.knn10]) expect(v).toBeGreaterThan(0.1);
    // the set's known structure: a tiny image beats a random-init ViT by far on caltech10
    expect(j.pixels).toBeGreaterThan(j.random + 0.2);
    // 0.04 is twice the binomial standard error at 600 photos; runs that learn nothing end within ~0.02
    // of random init (src-main/dino/README.md)
    expect(trained.knn20).toBeGreaterThan(j.random + 0.04);
  });
});
