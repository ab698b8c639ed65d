import { describe, expect, it } from 'vitest';
import { gpuMemoryBudget, gpuStepBytes, sizedForGpu } from './gpu-memory';
import { getPreset } from './presets';

const GB = 2 ** 30;

describe('GPU presets sized to the adapter', () => {
  const small = getPreset('gpu-small').config;

  it('estimates the official ViT-S/16 step at a few GB, proportional to the micro-batch', () => {
    const full = gpuStepBytes(small);
    const quarter = gpuStepBytes({ ...small, accumSteps: 4 });
    console.log(`ViT-S/16, 2 x 224 + 10 x 96, K 65536: batch 64 ${(full / GB).toFixed(1)} GB, micro-batch 16 ${(quarter / GB).toFixed(1)} GB`);
    expect(full).toBeGreaterThan(2 * GB);
    expect(full).toBeLessThan(64 * GB);
    // parameters and optimizer state stay; activations shrink with the micro-batch
    expect(quarter).toBeLessThan(full / 2);
    expect(quarter).toBeGreaterThan(full / 8);
  });

  it('takes the fewest micro-batches that fit, and never changes the batch', () => {
    expect(sizedForGpu(small, 1000 * GB).accumSteps).toBe(1);
    const tight = sizedForGpu(small, 6 * GB);
    expect(tight.batchSize).toBe(64);
    expect(tight.accumSteps).toBeGreaterThan(1);
    expect(64 % tight.accumSteps).toBe(0);
    expect(gpuStepBytes(tight)).toBeLessThanOrEqual(6 * GB);
    // one fewer micro-batch would not fit
    const divisors = [1, 2, 4, 8, 16, 32, 64];
    const fewer = divisors[divisors.indexOf(tight.accumSteps) - 1]!;
    expect(gpuStepBytes({ ...small, accumSteps: fewer })).toBeGreaterThan(6 * GB);
    // one photo at a time when nothing fits
    expect(sizedForGpu(small, 1).accumSteps).toBe(64);
  });

  it("uses DINO_GPU_MEMORY_GB over the adapter's largest buffer", () => {
    expect(gpuMemoryBudget(4 * GB, {})).toBe(4 * GB);
    expect(gpuMemoryBudget(4 * GB, { DINO_GPU_MEMORY_GB: '24' })).toBe(24 * GB);
    expect(gpuMemoryBudget(4 * GB, { DINO_GPU_MEMORY_GB: 'lots' })).toBe(4 * GB);
  });
});
