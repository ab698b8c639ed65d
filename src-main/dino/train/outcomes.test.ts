import { describe, expect, it } from 'vitest';
import { OUTCOMES, outcomeEpochs, outcomeRecipe } from './outcomes';
import { getPreset } from './presets';

describe('outcomes', () => {
  it('map to a preset of the backend kind, every one of them a real preset', () => {
    for (const kind of ['cpu', 'gpu'] as const) {
      for (const o of OUTCOMES) {
        const r = outcomeRecipe(o, kind);
        expect(getPreset(r.preset).target, `${o} on ${kind}`).toBe(kind);
      }
    }
    expect(outcomeRecipe('quick', 'gpu').preset).toBe('gpu-tiny');
    expect(outcomeRecipe('finetune', 'cpu')).toMatchObject({ preset: 'finetune-cpu', steps: null, fromWeights: true });
  });

  it('turn a step budget into epochs for the collection (drop_last), at least one', () => {
    const quick = outcomeRecipe('quick', 'cpu');
    // 600 photos at batch 32: 18 steps an epoch, 1200 steps ~ 67 epochs
    expect(outcomeEpochs(quick, 100, 600, 32)).toBe(67);
    expect(outcomeEpochs(quick, 100, 36, 32)).toBe(1200);
    expect(outcomeEpochs(quick, 100, 1_000_000, 32)).toBe(1);
    // a recipe without a budget keeps its preset's epochs
    expect(outcomeEpochs(outcomeRecipe('finetune', 'cpu'), 3, 600, 16)).toBe(3);
  });
});
