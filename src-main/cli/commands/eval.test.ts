import { resolve } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { main } from '../main';

const repoRoot = resolve(import.meta.dirname, '..', '..', '..');
const trashnet = resolve(repoRoot, '../shared/data/trashnet6');
const weights = resolve(repoRoot, 'src-main/dino/weights/fixtures/vit_p16_full_checkpoint.pth');

async function cli(args: string[]): Promise<{ code: number; json: Record<string, unknown> }> {
  const out: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    const code = await main(args);
    return { code, json: JSON.parse(out.join('').trim()) as Record<string, unknown> };
  } finally {
    spy.mockRestore();
    err.mockRestore();
  }
}

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
});
