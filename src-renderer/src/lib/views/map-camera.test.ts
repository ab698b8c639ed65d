/**
 * The map's view arithmetic: the fitted view centres the buffer, screen and unit space convert both
 * ways, a wheel zoom keeps the point under the pointer still, and the keys pan, zoom and fit.
 */
import { describe, expect, it } from 'vitest';
import { bufferSize, detailDotRadius, fitView, fittedDotRadius, isMagnified, keyView, toScreen, toUnit, zoomAt } from './map-camera';

describe('map camera', () => {
  it('fits the buffer to the shorter side, centred on the longer one', () => {
    expect(fitView(800, 600, 1200)).toEqual({ scale: 0.5, tx: 100, ty: 0 });
    expect(fitView(600, 800, 1200)).toEqual({ scale: 0.5, tx: 0, ty: 100 });
  });

  it('converts between screen and unit space both ways', () => {
    const view = fitView(800, 600, 1200);
    expect(toScreen(view, 1200, 0, 0)).toEqual([100, 0]);
    expect(toScreen(view, 1200, 1, 1)).toEqual([700, 600]);
    expect(toUnit(view, 1200, 400, 300)).toEqual([0.5, 0.5]);
    const zoomed = { scale: 3.7, tx: -123.4, ty: 56.7 };
    const [x, y] = toScreen(zoomed, 2048, 0.31, 0.82);
    const [ux, uy] = toUnit(zoomed, 2048, x, y);
    expect(ux).toBeCloseTo(0.31, 12);
    expect(uy).toBeCloseTo(0.82, 12);
  });

  it('zooms about the pointer, within its bounds', () => {
    const view = { scale: 1, tx: 10, ty: 20 };
    const inward = zoomAt(view, 300, 200, -120);
    expect(inward.scale).toBeGreaterThan(1);
    // the unit point under the pointer is the same before and after
    const before = toUnit(view, 1000, 300, 200);
    const after = toUnit(inward, 1000, 300, 200);
    expect(after[0]).toBeCloseTo(before[0], 12);
    expect(after[1]).toBeCloseTo(before[1], 12);
    expect(zoomAt(view, 0, 0, 120).scale).toBeLessThan(1);
    expect(zoomAt({ scale: 39, tx: 0, ty: 0 }, 0, 0, -10_000).scale).toBe(40);
    expect(zoomAt({ scale: 0.06, tx: 0, ty: 0 }, 0, 0, 10_000).scale).toBe(0.05);
  });

  it('pans with the arrows, zooms about the centre with + = -, fits on 0, and leaves other keys', () => {
    const view = { scale: 2, tx: 10, ty: 20 };
    expect(keyView(view, 'ArrowLeft', 400, 300)).toEqual({ scale: 2, tx: 50, ty: 20 });
    expect(keyView(view, 'ArrowRight', 400, 300)).toEqual({ scale: 2, tx: -30, ty: 20 });
    expect(keyView(view, 'ArrowUp', 400, 300)).toEqual({ scale: 2, tx: 10, ty: 60 });
    expect(keyView(view, 'ArrowDown', 400, 300)).toEqual({ scale: 2, tx: 10, ty: -20 });
    expect(keyView(view, '+', 400, 300)).toEqual({ scale: 2.5, tx: 200 - 190 * 1.25, ty: 150 - 130 * 1.25 });
    expect(keyView(view, '=', 400, 300)).toEqual(keyView(view, '+', 400, 300));
    const out = keyView(view, '-', 400, 300) as { scale: number };
    expect(out.scale).toBeCloseTo(1.6, 12);
    expect(keyView(view, '0', 400, 300)).toBe('fit');
    expect(keyView(view, 'a', 400, 300)).toBeNull();
    expect(keyView(view, 'Enter', 400, 300)).toBeNull();
  });

  it('calls a view magnified once a buffer pixel covers more than a device pixel', () => {
    expect(isMagnified({ scale: 1, tx: 0, ty: 0 }, 1)).toBe(false);
    expect(isMagnified({ scale: 0.5, tx: 0, ty: 0 }, 2)).toBe(false);
    expect(isMagnified({ scale: 0.6, tx: 0, ty: 0 }, 2)).toBe(true);
  });

  it('draws fewer points as bigger dots, and dots grow slower than the zoom up to a cap', () => {
    expect(fittedDotRadius(100)).toBe(5);
    expect(fittedDotRadius(5000)).toBe(2.5);
    expect(fittedDotRadius(100_000)).toBe(1.3);
    expect(detailDotRadius(1.3, 4, 1)).toBeCloseTo(2.6, 12);
    expect(detailDotRadius(1.3, 2, 2)).toBeCloseTo(5.2, 12);
    expect(detailDotRadius(5, 40, 1)).toBe(6);
  });

  it('sizes the buffer to the stage in device pixels, within bounds', () => {
    expect(bufferSize(800, 600, 2)).toEqual({ side: 600, size: 1200 });
    expect(bufferSize(0, 0, 1)).toEqual({ side: 700, size: 700 });
    expect(bufferSize(100, 150, 1)).toEqual({ side: 200, size: 200 });
    expect(bufferSize(3000, 3000, 2)).toEqual({ side: 3000, size: 4096 });
  });
});
