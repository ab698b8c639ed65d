import { NO_CLUSTER, type MapPointColumns } from '../../../../src-shared/api';

/** how many points one slice of MapIndex.build handles before it yields (~1 ms warm, a few cold) */
const SLICE = 16_384;

/** The map's points in unit space [0,1]², bucketed on a uniform grid so hover is a few cell lookups. */
export class MapIndex {
  private constructor(
    readonly points: MapPointColumns,
    readonly size: number,
    readonly xs: Float32Array,
    readonly ys: Float32Array,
    private readonly cells: Int32Array,
    private readonly starts: Int32Array,
  ) {}

  /**
   * Indexes the points a slice at a time: the generator yields after every SLICE points, so a caller
   * can give the main thread back between slices (at 100k points the whole build is ~5 ms warm, but
   * tens of ms the first time, before the JIT has compiled it, and more on a loaded machine).
   */
  static *build(points: MapPointColumns, size = 128): Generator<void, MapIndex, void> {
    const n = points.count;
    const px = points.xs;
    const py = points.ys;
    let x0 = Infinity;
    let x1 = -Infinity;
    let y0 = Infinity;
    let y1 = -Infinity;
    for (let from = 0; from < n; from += SLICE) {
      for (let i = from, to = Math.min(n, from + SLICE); i < to; i++) {
        const x = px[i]!;
        const y = py[i]!;
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
      yield;
    }
    // one scale for both axes keeps the projection's shape; a margin keeps points off the edge
    const span = Math.max(x1 - x0, y1 - y0) || 1;
    const ox = (1 - (x1 - x0) / span) / 2;
    const oy = (1 - (y1 - y0) / span) / 2;
    const xs = new Float32Array(n);
    const ys = new Float32Array(n);
    // counting sort of the points by cell: starts[c]..starts[c+1] index into cells
    const count = new Int32Array(size * size + 1);
    const cellOf = new Int32Array(n);
    for (let from = 0; from < n; from += SLICE) {
      for (let i = from, to = Math.min(n, from + SLICE); i < to; i++) {
        xs[i] = 0.04 + 0.92 * (ox + (px[i]! - x0) / span);
        ys[i] = 0.04 + 0.92 * (oy + (py[i]! - y0) / span);
        // the cell of the stored (float32) position, the one lookups compare against
        const c = cellIndex(size, xs[i]!, ys[i]!);
        cellOf[i] = c;
        count[c + 1]!++;
      }
      yield;
    }
    for (let c = 0; c < size * size; c++) count[c + 1]! += count[c]!;
    const starts = count.slice();
    const fill = count;
    const cells = new Int32Array(n);
    for (let from = 0; from < n; from += SLICE) {
      for (let i = from, to = Math.min(n, from + SLICE); i < to; i++) cells[fill[cellOf[i]!]!++] = i;
      yield;
    }
    return new MapIndex(points, size, xs, ys, cells, starts);
  }

  /** The point nearest (x, y) within radius r (unit space), or -1. */
  nearest(x: number, y: number, r: number): number {
    const s = this.size;
    const c0 = Math.max(0, Math.floor((x - r) * s));
    const c1 = Math.min(s - 1, Math.floor((x + r) * s));
    const r0 = Math.max(0, Math.floor((y - r) * s));
    const r1 = Math.min(s - 1, Math.floor((y + r) * s));
    let best = -1;
    let bestD = r * r;
    for (let cy = r0; cy <= r1; cy++) {
      for (let cx = c0; cx <= c1; cx++) {
        const c = cy * s + cx;
        for (let k = this.starts[c]!; k < this.starts[c + 1]!; k++) {
          const i = this.cells[k]!;
          const dx = this.xs[i]! - x;
          const dy = this.ys[i]! - y;
          const d = dx * dx + dy * dy;
          if (d <= bestD) {
            bestD = d;
            best = i;
          }
        }
      }
    }
    return best;
  }

  /** Calls `fn` for every point in the grid cells that overlap a unit-space box (a superset of the box). */
  visit(x0: number, y0: number, x1: number, y1: number, fn: (i: number) => void): void {
    const [c0, c1, r0, r1] = this.cellRange(x0, y0, x1, y1);
    this.visitCells(c0, c1, r0, r1, fn);
  }

  /** The grid columns c0..c1 and rows r0..r1 that overlap a unit-space box (empty when c0 > c1 or r0 > r1). */
  cellRange(x0: number, y0: number, x1: number, y1: number): [c0: number, c1: number, r0: number, r1: number] {
    const s = this.size;
    return [Math.max(0, Math.floor(x0 * s)), Math.min(s - 1, Math.floor(x1 * s)), Math.max(0, Math.floor(y0 * s)), Math.min(s - 1, Math.floor(y1 * s))];
  }

  /** Calls `fn` for every point in grid columns c0..c1 of rows r0..r1; returns how many that was. */
  visitCells(c0: number, c1: number, r0: number, r1: number, fn: (i: number) => void): number {
    const s = this.size;
    let visited = 0;
    for (let cy = r0; cy <= r1; cy++) {
      // the cells of one grid row are contiguous in `cells`: one run per row
      const from = this.starts[cy * s + c0]!;
      const to = this.starts[cy * s + c1 + 1]!;
      for (let k = from; k < to; k++) fn(this.cells[k]!);
      if (to > from) visited += to - from;
    }
    return visited;
  }

  /** Indices of the points inside a unit-space box. */
  inBox(x0: number, y0: number, x1: number, y1: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.xs.length; i++) {
      const x = this.xs[i]!;
      const y = this.ys[i]!;
      if (x >= x0 && x <= x1 && y >= y0 && y <= y1) out.push(i);
    }
    return out;
  }
}

/** The grid cell of a unit-space point, on a size x size grid (points outside land in the border cells). */
function cellIndex(size: number, x: number, y: number): number {
  const cx = Math.min(size - 1, Math.max(0, Math.floor(x * size)));
  const cy = Math.min(size - 1, Math.max(0, Math.floor(y * size)));
  return cy * size + cx;
}

/** A stable colour per cluster id (golden-angle hues), grey for none. */
export function clusterColour(cluster: number | null, dark: boolean): string {
  if (cluster === null) return dark ? '#6b7280' : '#9ca3af';
  const hue = (cluster * 137.508) % 360;
  return `hsl(${hue.toFixed(0)} 70% ${dark ? 62 : 45}%)`;
}

/** The same colour as [r, g, b] bytes, for drawing straight into pixels. */
export function clusterRgb(cluster: number | null, dark: boolean): [number, number, number] {
  if (cluster === null) return dark ? [0x6b, 0x72, 0x80] : [0x9c, 0xa3, 0xaf];
  return hslToRgb((cluster * 137.508) % 360, 0.7, dark ? 0.62 : 0.45);
}

function hslToRgb(h: number, s: number, l: number): [number, number, number] {
  const a = s * Math.min(l, 1 - l);
  const f = (n: number) => {
    const k = (n + h / 30) % 12;
    return Math.round(255 * (l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
  };
  return [f(0), f(8), f(4)];
}

/** Where unit space lands in a pixel buffer: pixel = unit * scale + offset. */
export interface PixelTransform {
  scale: number;
  x: number;
  y: number;
}

/**
 * Each point's colour as a little-endian RGBA word, for paintPoints: computed once per point set and
 * theme, a slice at a time (yields after every SLICE points).
 */
export function* pointWordsSteps(index: MapIndex, rgbOf: (cluster: number | null) => [number, number, number]): Generator<void, Uint32Array, void> {
  const byCluster = new Map<number, number>();
  const clusters = index.points.clusters;
  const out = new Uint32Array(clusters.length);
  // neighbours often share a cluster: the previous point's word saves most of the lookups
  let last = NaN;
  let lastWord = 0;
  for (let from = 0; from < out.length; from += SLICE) {
    for (let i = from, to = Math.min(out.length, from + SLICE); i < to; i++) {
      const c = clusters[i]!;
      if (c !== last) {
        let w = byCluster.get(c);
        if (w === undefined) {
          const [R, G, B] = rgbOf(c === NO_CLUSTER ? null : c);
          w = ((0xff << 24) | (B << 16) | (G << 8) | R) >>> 0;
          byCluster.set(c, w);
        }
        last = c;
        lastWord = w;
      }
      out[i] = lastWord;
    }
    yield;
  }
  return out;
}

/**
 * Paints the points as filled discs of radius r straight into a width x height RGBA pixel buffer, at
 * `to` (unit space to pixels), each in its colour from `words` (see pointWordsSteps): at 100k points this
 * takes milliseconds, where canvas arcs take a second. Only the grid cells that overlap the buffer
 * are visited, so a zoomed-in view costs only the points it shows.
 */
export function paintPoints(index: MapIndex, width: number, height: number, to: PixelTransform, r: number, words: Uint32Array): ImageData {
  return finish(paintPointsSteps(index, width, height, to, r, words));
}

/** paintPoints a few grid rows at a time: yields after every SLICE or so points painted. */
export function* paintPointsSteps(index: MapIndex, width: number, height: number, to: PixelTransform, r: number, words: Uint32Array): Generator<void, ImageData, void> {
  const img = new ImageData(width, height);
  const px = new Uint32Array(img.data.buffer);
  const ri = Math.max(1, Math.round(r));
  const dxs: number[] = [];
  const dys: number[] = [];
  for (let dy = -ri; dy <= ri; dy++) {
    for (let dx = -ri; dx <= ri; dx++) {
      if (dx * dx + dy * dy > r * r + 0.5) continue;
      dxs.push(dx);
      dys.push(dy);
    }
  }
  // the disc as offsets into the pixel array: a point clear of the edges is one write per pixel
  const offs = Int32Array.from(dxs, (dx, k) => dys[k]! * width + dx);
  const n = offs.length;
  const { xs, ys } = index;
  const margin = (ri + 1) / to.scale;
  const plot = (i: number): void => {
    const x = Math.round(xs[i]! * to.scale + to.x);
    const y = Math.round(ys[i]! * to.scale + to.y);
    const w = words[i]!;
    if (x >= ri && y >= ri && x < width - ri && y < height - ri) {
      const at = y * width + x;
      for (let k = 0; k < n; k++) px[at + offs[k]!] = w;
      return;
    }
    if (x < -ri || y < -ri || x >= width + ri || y >= height + ri) return;
    for (let k = 0; k < n; k++) {
      const X = x + dxs[k]!;
      const Y = y + dys[k]!;
      if (X >= 0 && X < width && Y >= 0 && Y < height) px[Y * width + X] = w;
    }
  };
  const [c0, c1, r0, r1] = index.cellRange(-to.x / to.scale - margin, -to.y / to.scale - margin, (width - to.x) / to.scale + margin, (height - to.y) / to.scale + margin);
  let since = 0;
  for (let row = r0; row <= r1; row++) {
    since += index.visitCells(c0, c1, row, row, plot);
    if (since >= SLICE) {
      since = 0;
      yield;
    }
  }
  return img;
}

/** Runs a sliced computation (MapIndex.build, pointWordsSteps, paintPointsSteps) to its end in one go. */
export function finish<T>(steps: Generator<void, T, void>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}
