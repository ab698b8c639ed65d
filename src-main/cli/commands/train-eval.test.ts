import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli as cli } from '../cli-capture';

const repoRoot = resolve(import.meta.dirname, '..', '..', '..');
const caltech = resolve(repoRoot, '../shared/data/caltech10');
// Issue #3's "it learns" needs a whole 100-epoch CPU schedule (1800 steps on caltech10: ~26 min for
// cpu-micro-colour on 2 cores, less for cpu-narrow), more than a CI run holds (src-main/dino/README.md,
// "Learning on small photo sets"); DINO_LEARN_TEST=1 runs the claim itself, DINO_LEARN_PRESET picks
// which of the two.
const learnPreset = process.env.DINO_LEARN_PRESET ?? 'cpu-narrow';
const learnTest = process.env.DINO_LEARN_TEST === '1';

interface TrainEval {
  preset: string;
  n: number;
  classes: number;
  random: number;
  pixels: number;
  steps: number;
  totalSteps: number;
  curve: { minutes: number; knn20: number; knn10: number; steps: number; loss: number | null }[];
  seconds: number;
}

describe('dino-explorer train-eval', () => {
  it('trains one epoch on caltech10 and prints k-NN20 for pixels, random init and the trained teacher', async () => {
    const r = await cli(['train-eval', '--data', caltech, '--preset', 'cpu-micro', '--epochs', '1', '--minutes', '20', '--json']);
    expect(r.code).toBe(0);
    const j = r.json as unknown as TrainEval;
    console.log(`caltech10 k-NN20 after ${j.steps} steps of ${j.preset}: ${j.curve.at(-1)!.knn20.toFixed(3)} (random init ${j.random.toFixed(3)}, pixels ${j.pixels.toFixed(3)})`);
    expect([j.n, j.classes, j.preset]).toEqual([600, 10, 'cpu-micro']);
    // the whole one-epoch schedule ran (batch 32, the last partial batch dropped as in the official loader)
    expect(j.steps).toBe(Math.floor(600 / 32));
    expect(j.totalSteps).toBe(j.steps);
    expect(j.curve).toHaveLength(1);
    const last = j.curve[0]!;
    expect(Number.isFinite(last.loss)).toBe(true);
    expect(last.steps).toBe(j.steps);
    for (const v of [j.random, j.pixels, last.knn20, last.knn10]) expect(v).toBeGreaterThan(0.1);
    // the set's known structure: a tiny image beats a random-init ViT by far on caltech10
    expect(j.pixels).toBeGreaterThan(j.random + 0.2);
  }, 1_200_000);

  it.skipIf(!learnTest)(`learns: after the whole ${learnPreset} schedule the teacher clearly beats random init on caltech10`, async () => {
    const r = await cli(['train-eval', '--data', caltech, '--preset', learnPreset, '--minutes', '120', '--points', '1', '--json']);
    expect(r.code).toBe(0);
    const j = r.json as unknown as TrainEval;
    const trained = j.curve.at(-1)!.knn20;
    console.log(`caltech10 k-NN20 after ${j.steps} steps of ${j.preset}: ${trained.toFixed(3)}, random init ${j.random.toFixed(3)}, pixels ${j.pixels.toFixed(3)}, ${(j.seconds / 60).toFixed(1)} min`);
    expect(j.steps).toBe(j.totalSteps);
    expect(trained).toBeGreaterThan(j.random + 0.05);
  }, 150 * 60_000);
});
