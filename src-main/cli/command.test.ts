import { describe, expect, it } from 'vitest';
import { UsageError, parseSetPairs } from './command';

describe('--set key=value', () => {
  it('types numbers, booleans and null, and keeps the rest as strings', () => {
    expect(parseSetPairs(['lr=0.001', 'normLastLayer=false', 'depth=null', 'interpolation=bilinear', 'embedDim=96', 'x=a=b'])).toEqual({
      lr: 0.001,
      normLastLayer: false,
      depth: null,
      interpolation: 'bilinear',
      embedDim: 96,
      x: 'a=b',
    });
  });

  it('refuses a pair without a key', () => {
    expect(() => parseSetPairs(['=3'])).toThrow(UsageError);
    expect(() => parseSetPairs(['lr'])).toThrow(/--set takes key=value, got lr/);
  });
});
