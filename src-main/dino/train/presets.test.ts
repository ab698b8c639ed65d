import { describe, expect, it } from 'vitest';
import { CONFIG_LIMITS, PRESETS, getPreset, withOverrides, type DinoConfig } from './presets';
import { netConfigs } from './net-configs';
import { normalizeConfig } from './trainer';

describe('presets and config checks', () => {
  it('every preset is a complete config inside the limits', () => {
    for (const p of PRESETS) {
      expect(normalizeConfig(p.config), p.name).toEqual(p.config);
      for (const k of Object.keys(CONFIG_LIMITS)) expect(typeof (p.config as unknown as Record<string, unknown>)[k], `${p.name}.${k}`).toBe('number');
    }
  });

  it('stops a bad override with the field and its range', () => {
    const base = getPreset('cpu-micro').config;
    const bad = (o: Record<string, unknown>): (() => DinoConfig) => () => normalizeConfig(withOverrides(base, o));
    expect(bad({ lr: -1 })).toThrow(/lr \(-1\) must be a number from 0 to 1/);
    expect(bad({ batchSize: 12.5 })).toThrow(/batchSize .* whole number/);
    expect(bad({ colorJitterProb: 2 })).toThrow(/colorJitterProb/);
    expect(bad({ localScaleMin: 0.5, localScaleMax: 0.2 })).toThrow(/crop scale range/);
    expect(bad({ teacherTemp: '0.04' })).toThrow(/teacherTemp must be a number/);
    expect(bad({ techerTemp: 0.04 })).toThrow(/unknown training option "techerTemp"/);
    expect(bad({ embedDim: 100 })).toThrow(/embedDim \(100\) must be null .* multiple of 16/);
    expect(bad({ depth: 0 })).toThrow(/depth \(0\) must be null/);
    expect(bad({ embedDim: '96' })).toThrow(/embedDim \(96\) must be null/);
    expect(normalizeConfig(withOverrides(base, { colorJitterProb: 0, grayscaleProb: 0, lr: 1e-3 }))).toMatchObject({ colorJitterProb: 0, grayscaleProb: 0, lr: 1e-3 });
  });

  it('builds a narrower ViT from embedDim, with the family’s 64-wide heads where they divide', () => {
    const base = getPreset('cpu-micro').config;
    expect(netConfigs({ ...base, depth: null }).student.vit).toMatchObject({ arch: 'vit_tiny', embedDim: 192, numHeads: 3, depth: 12 });
    expect(netConfigs(base).student.vit).toMatchObject({ arch: 'custom', embedDim: 192, numHeads: 3, depth: 6 });
    expect(netConfigs({ ...base, embedDim: 128 }).student.vit).toMatchObject({ arch: 'custom', embedDim: 128, numHeads: 2 });
    expect(netConfigs({ ...base, embedDim: 96 }).teacher.vit).toMatchObject({ arch: 'custom', embedDim: 96, numHeads: 3 });
    expect(netConfigs({ ...base, embedDim: 128 }).student.head.inDim).toBe(128);
  });

  it('fills the fields a config saved by an older version lacks', () => {
    const { accumSteps: _a, freezeBlocks: _f, colorJitterProb: _c, grayscaleProb: _g, embedDim: _e, blurAmount: _b, solarizeProb: _s, ...old } = getPreset('cpu-micro').config;
    expect(normalizeConfig(old as DinoConfig)).toEqual(getPreset('cpu-micro').config);
  });
});
