import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli as cli } from '../../testing/cli-capture';

const repoRoot = resolve(import.meta.dirname, '..', '..', '..');
const trashnet = resolve(repoRoot, '../shared/data/trashnet6');
const weights = resolve(repoRoot, 'src-main/dino/weights/fixtures/vit_p16_full_checkpoint.pth');
const caltech = resolve(repoRoot, '../shared/data/caltech10');
// the best model the app has on a given machine: an official checkpoint name (downloaded into the
// temporary catalog) or a weights file; none exists on the CI machines, which have no internet
const bestModel = process.env.DINO_QUALITY_MODEL;

interface Scores {
  knn: Record<string, number>;
  nmi: number;
  ari: number;
  purity: number;
}

function expectScores(s: Scores, classes: number): void {
  for (const k of ['10', '20']) {
    expect(s.knn[k]).toBeGreaterThanOrEqual(0);
    expect(s.knn[k]).toBeLessThanOrEqual(1);
  }
  // every feature set beats guessing the class (1/classes) by k-NN on this set
  expect(s.knn['20']!).toBeGreaterThan(1 / classes);
  expect(s.nmi).toBeGreaterThanOrEqual(0);
  expect(s.nmi).toBeLessThanOrEqual(1);
  expect(s.ari).toBeGreaterThanOrEqual(-1);
  expect(s.purity).toBeGreaterThanOrEqual(1 / classes - 1e-9);
}

describe('dino-explorer eval', () => {
  it('prints the model, pixels and random-init scores for trashnet6', async () => {
    const r = await cli(['eval', '--data', trashnet, '--model', weights, '--json']);
    expect(r.code).toBe(0);
    const j = r.json as unknown as Scores & { n: number; classes: number; model: string; baselines: Record<string, Scores> };
    expect(j.n).toBe(822);
    expect(j.classes).toBe(6);
    expect(j.model).toMatch(/^\d+$/);
    expectScores(j, 6);
    expect(Object.keys(j.baselines).sort()).toEqual(['pixels', 'random']);
    expectScores(j.baselines.pixels!, 6);
    expectScores(j.baselines.random!, 6);
    // the three feature sets are really different features
    expect(new Set([j.knn['20'], j.baselines.pixels!.knn['20'], j.baselines.random!.knn['20']]).size).toBe(3);
  }, 600_000);

  it('refuses a folder without classes and a missing folder, with clear messages', async () => {
    const missing = await cli(['eval', '--data', '/nonexistent/photos', '--json']);
    expect(missing.code).toBe(1);
    expect(missing.json.error).toMatch(/Folder not found/);
    const usage = await cli(['eval', '--json']);
    expect(usage.code).toBe(2);
  });

  // Issue #6's quality claim. A model trained from scratch on CPU in any budget measured here stays
  // far below pixels on caltech10 (k-NN 0.27 against 0.61), so the claim needs pretrained weights:
  // DINO_QUALITY_MODEL=dino_vits16 npx vitest run src-main/cli/commands/eval.test.ts
  it.skipIf(!bestModel)('clusters caltech10 with the best model clearly better than raw pixels (auto-k NMI)', async () => {
    const r = await cli(['eval', '--data', caltech, '--model', bestModel!, '--json']);
    expect(r.code).toBe(0);
    const j = r.json as unknown as Scores & { k: number; baselines: Record<string, Scores & { k: number }> };
    const pixels = j.baselines.pixels!;
    console.log(`caltech10 auto-k clustering: model NMI ${j.nmi.toFixed(3)} (k ${j.k}), pixels ${pixels.nmi.toFixed(3)} (k ${pixels.k}); k-NN20 ${j.knn['20']!.toFixed(3)} vs ${pixels.knn['20']!.toFixed(3)}`);
    expect(j.nmi).toBeGreaterThan(pixels.nmi + 0.1);
  }, 1_800_000);
});
