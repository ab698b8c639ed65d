import { describe, expect, it } from 'vitest';
import { NO_CLUSTER, type MapPointDTO } from './api';
import { mapPointAt, packMapPoints, packedMapPointsBytes, unpackMapPoints } from './map-points';

function points(n: number): MapPointDTO[] {
  let seed = 3;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  return Array.from({ length: n }, (_, i) => ({
    id: i * 7 + 1,
    x: (rnd() - 0.5) * 40,
    y: (rnd() - 0.5) * 40,
    cluster: i % 13 === 0 ? null : i % 12,
  }));
}

/** what a packed point reads back as: x and y travel as float32 */
const asFloat32 = (p: MapPointDTO): MapPointDTO => ({ ...p, x: Math.fround(p.x), y: Math.fround(p.y) });

describe('packed map points', () => {
  it('round-trips no points', () => {
    const bytes = packMapPoints([]);
    expect(bytes.byteLength).toBe(packedMapPointsBytes(0));
    const cols = unpackMapPoints(bytes);
    expect(cols.count).toBe(0);
    expect([cols.ids.length, cols.xs.length, cols.ys.length, cols.clusters.length]).toEqual([0, 0, 0, 0]);
  });

  it('round-trips a few points, ids and clusters exactly, none as NO_CLUSTER', () => {
    const pts: MapPointDTO[] = [
      { id: 1, x: 0.5, y: -2.25, cluster: 0 },
      { id: 4_294_967_295, x: -1e6, y: 3.3, cluster: null },
      { id: 42, x: 1 / 3, y: Number.MIN_VALUE, cluster: 2_147_483_647 },
    ];
    const cols = unpackMapPoints(packMapPoints(pts));
    expect(cols.count).toBe(3);
    expect([...cols.clusters]).toEqual([0, NO_CLUSTER, 2_147_483_647]);
    expect(pts.map((_, i) => mapPointAt(cols, i))).toEqual(pts.map(asFloat32));
  });

  it('round-trips 100k points in 16 bytes a point, as views over the received buffer', () => {
    const pts = points(100_000);
    const bytes = packMapPoints(pts);
    expect(bytes.byteLength).toBe(8 + 16 * 100_000);
    // what the renderer receives: a fresh buffer (fetch's arrayBuffer(), a structured clone)
    const received = new Uint8Array(bytes.slice().buffer);
    const cols = unpackMapPoints(received);
    expect(cols.count).toBe(100_000);
    for (const col of [cols.ids, cols.xs, cols.ys, cols.clusters]) {
      expect(col.buffer).toBe(received.buffer);
      expect(col.length).toBe(100_000);
    }
    for (let i = 0; i < pts.length; i++) {
      const want = asFloat32(pts[i]!);
      if (cols.ids[i] !== want.id || cols.xs[i] !== want.x || cols.ys[i] !== want.y || cols.clusters[i] !== (want.cluster ?? NO_CLUSTER)) {
        expect(mapPointAt(cols, i), `point ${i}`).toEqual(want);
      }
    }
  });

  it('reads bytes at an unaligned offset (a Node Buffer slice) through a copy', () => {
    const pts = points(5);
    const bytes = packMapPoints(pts);
    const padded = new Uint8Array(bytes.byteLength + 3);
    padded.set(bytes, 3);
    const cols = unpackMapPoints(padded.subarray(3));
    expect(pts.map((_, i) => mapPointAt(cols, i))).toEqual(pts.map(asFloat32));
  });

  it('refuses what is not packed map points, and points that do not fit', () => {
    expect(() => unpackMapPoints(new Uint8Array(4))).toThrow(/too short/);
    expect(() => unpackMapPoints(new TextEncoder().encode('{"result":[]}'))).toThrow(/not a packed/);
    const bytes = packMapPoints(points(3));
    expect(() => unpackMapPoints(bytes.subarray(0, bytes.byteLength - 4))).toThrow(/expected/);
    expect(() => packMapPoints([{ id: 1.5, x: 0, y: 0, cluster: null }])).toThrow(RangeError);
    expect(() => packMapPoints([{ id: 2 ** 32, x: 0, y: 0, cluster: null }])).toThrow(RangeError);
    expect(() => packMapPoints([{ id: 1, x: 0, y: 0, cluster: -1 }])).toThrow(RangeError);
  });
});
