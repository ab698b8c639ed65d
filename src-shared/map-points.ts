// map:points travels packed: the core packs its points (packMapPoints), the renderer reads them back
// as typed-array views over the received bytes (unpackMapPoints), with no JSON and no per-point objects.
// Both sides import these two functions, so the layout below is written down once.
//
// Layout (platform byte order, little-endian everywhere this runs; every column 4-byte aligned):
//   u32 MAGIC, u32 count, then count u32 ids, count f32 x, count f32 y, count i32 clusters (NO_CLUSTER: none)
import { NO_CLUSTER, type MapPointColumns, type MapPointDTO, type PackedMapPoints } from './api';

/** 'DMP1' little-endian: a buffer that does not start with it is not packed map points */
const MAGIC = 0x31504d44;
const HEADER_WORDS = 2;
/** bytes per point: id, x, y, cluster, 4 bytes each */
const POINT_BYTES = 16;

/** The size in bytes of `count` packed points. */
export function packedMapPointsBytes(count: number): number {
  return 4 * HEADER_WORDS + POINT_BYTES * count;
}

/** Packs the map's points into one byte buffer (see the layout above): ids and clusters exact, x and y as float32. */
export function packMapPoints(points: readonly MapPointDTO[]): PackedMapPoints {
  const n = points.length;
  const buffer = new ArrayBuffer(packedMapPointsBytes(n));
  const header = new Uint32Array(buffer, 0, HEADER_WORDS);
  header[0] = MAGIC;
  header[1] = n;
  const { ids, xs, ys, clusters } = columnsOf(buffer, n);
  for (let i = 0; i < n; i++) {
    const p = points[i]!;
    if (!Number.isInteger(p.id) || p.id < 0 || p.id > 0xffffffff) throw new RangeError(`map point ${i}: id ${p.id} does not fit the packed form`);
    if (p.cluster !== null && (!Number.isInteger(p.cluster) || p.cluster < 0 || p.cluster > 0x7fffffff)) {
      throw new RangeError(`map point ${i}: cluster ${p.cluster} does not fit the packed form`);
    }
    ids[i] = p.id;
    xs[i] = p.x;
    ys[i] = p.y;
    clusters[i] = p.cluster ?? NO_CLUSTER;
  }
  return new Uint8Array(buffer) as PackedMapPoints;
}

/**
 * Reads packed points back as columns: views over `bytes`' own buffer when it is 4-byte aligned (what
 * fetch's arrayBuffer() and a structured clone give), over a copy otherwise. Throws on anything that
 * is not a whole packed buffer.
 */
export function unpackMapPoints(bytes: Uint8Array): MapPointColumns {
  if (bytes.byteLength < 4 * HEADER_WORDS) throw new Error(`packed map points: ${bytes.byteLength} bytes is too short`);
  const aligned = bytes.byteOffset % 4 === 0 && bytes.buffer instanceof ArrayBuffer;
  const own = (aligned ? bytes : bytes.slice()) as Uint8Array<ArrayBuffer>;
  const header = new Uint32Array(own.buffer, own.byteOffset, HEADER_WORDS);
  if (header[0] !== MAGIC) throw new Error('packed map points: not a packed map-points buffer');
  const n = header[1]!;
  if (own.byteLength !== packedMapPointsBytes(n)) {
    throw new Error(`packed map points: ${own.byteLength} bytes for ${n} points (expected ${packedMapPointsBytes(n)})`);
  }
  return columnsOf(own.buffer, n, own.byteOffset);
}

function columnsOf(buffer: ArrayBuffer, n: number, at = 0): MapPointColumns {
  const base = at + 4 * HEADER_WORDS;
  return {
    count: n,
    ids: new Uint32Array(buffer, base, n),
    xs: new Float32Array(buffer, base + 4 * n, n),
    ys: new Float32Array(buffer, base + 8 * n, n),
    clusters: new Int32Array(buffer, base + 12 * n, n),
  };
}

/** Point i of the columns as a MapPointDTO (for one point at a time: a tooltip, a test). */
export function mapPointAt(cols: MapPointColumns, i: number): MapPointDTO {
  const c = cols.clusters[i]!;
  return { id: cols.ids[i]!, x: cols.xs[i]!, y: cols.ys[i]!, cluster: c === NO_CLUSTER ? null : c };
}
