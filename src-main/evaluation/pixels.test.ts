import { describe, expect, it } from 'vitest';
import { encodeLabels, labelOf } from './labels';
import { tinyImageFeature } from './pixels';

function solid(w: number, h: number, rgb: [number, number, number]): Uint8Array {
  const a = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) a.set(rgb, i * 3);
  return a;
}

describe('tinyImageFeature', () => {
  it('is unit length and separates a left-right split from its mirror', () => {
    const w = 40;
    const h = 20;
    const left = solid(w, h, [0, 0, 0]);
    for (let y = 0; y < h; y++) for (let x = w / 2; x < w; x++) left.set([255, 255, 255], (y * w + x) * 3);
    const right = new Uint8Array(left.length);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) right.set(left.subarray((y * w + (w - 1 - x)) * 3, (y * w + (w - 1 - x)) * 3 + 3), (y * w + x) * 3);
    const a = tinyImageFeature(left, w, h);
    const b = tinyImageFeature(right, w, h);
    const norm = Math.hypot(...a);
    expect(norm).toBeCloseTo(1, 5);
    let dot = 0;
    for (let i = 0; i < a.length; i++) dot += a[i]! * b[i]!;
    expect(dot).toBeCloseTo(-1, 5);
  });

  it('handles images smaller than the feature grid', () => {
    const f = tinyImageFeature(solid(3, 2, [10, 200, 30]), 3, 2);
    expect(f.length).toBe(16 * 16 * 3);
    expect(f.every(Number.isFinite)).toBe(true);
  });
});

describe('labels', () => {
  it('takes the first sub-folder as the label', () => {
    expect(labelOf('/data', '/data/cat/a.jpg')).toBe('cat');
    expect(labelOf('/data', '/data/cat/more/a.jpg')).toBe('cat');
    expect(labelOf('/data', '/data/a.jpg')).toBeNull();
    expect(labelOf('/data', '/elsewhere/a.jpg')).toBeNull();
    const { ids, classes } = encodeLabels(['b', 'a', 'b']);
    expect(classes).toEqual(['a', 'b']);
    expect([...ids]).toEqual([1, 0, 1]);
  });
});
