import type { MapPointDTO } from '../../../../src-shared/api';

/** The map's points in unit space [0,1]², bucketed on a uniform grid so hover is a few cell lookups. */
export class MapIndex {
  readonly xs: Float32Array;
  readonly ys: Float32Array;
  private readonly cells: Int32Array;
  private readonly starts: Int32Array;

  constructor(
    readonly points: readonly MapPointDTO[],
    readonly size = 128,
  ) {
    const n = points.length;
    this.xs = new Float32Array(n);
    this.ys = new Float32Array(n);
    let x0 = Infinity;
    let x1 = -Infinity;
    let y0 = Infinity;
    let y1 = -Infinity;
    for (const p of points) {
      x0 = Math.min(x0, p.x);
      x1 = Math.max(x1, p.x);
      y0 = Math.min(y0, p.y);
      y1 = Math.max(y1, p.y);
    }
    // one scale for both axes keeps the projection's shape; a margin keeps points off the edge
    const span = Math.max(x1 - x0, y1 - y0) || 1;
    const ox = (1 - (x1 - x0) / span) / 2;
    const oy = (1 - (y1 - y0) / span) / 2;
    for (let i = 0; i < n; i++) {
      const p = points[i]!;
      this.xs[i] = 0.04 + 0.92 * (ox + (p.x - x0) / span);
      this.ys[i] = 0.04 + 0.92 * (oy + (p.y - y0) / span);
    }
    // counting sort of the points by cell: starts[c]..starts[c+1] index into cells
    const count = new Int32Array(size * size + 1);
    const cellOf = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const c = this.cell(this.xs[i]!, this.ys[i]!);
      cellOf[i] = c;
      count[c + 1]!++;
    }
    for (let c = 0; c < size * size; c++) count[c + 1]! += count[c]!;
    this.starts = count.slice();
    const fill = count.slice();
    this.cells = new Int32Array(n);
    for (let i = 0; i < n; i++) this.cells[fill[cellOf[i]!]!++] = i;
  }

  private cell(x: number, y: number): number {
    const cx = Math.min(this.size - 1, Math.max(0, Math.floor(x * this.size)));
    const cy = Math.min(this.size - 1, Math.max(0, Math.floor(y * this.size)));
    return cy * this.size + cx;
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
    const s = this.size;
    const c0 = Math.max(0, Math.floor(x0 * s));
    const c1 = Math.min(s - 1, Math.floor(x1 * s));
    const r0 = Math.max(0, Math.floor(y0 * s));
    const r1 = Math.min(s - 1, Math.floor(y1 * s));
    for (let cy = r0; cy <= r1; cy++) {
      // the cells of one grid row are contiguous in `cells`: one run per row
      const from = this.starts[cy * s + c0]!;
      const to = this.starts[cy * s + c1 + 1]!;
      for (let k = from; k < to; k++) fn(this.cells[k]!);
    }
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

/** Each point's colour as a little-endian RGBA word, for paintPoints: computed once per point set and theme. */
export function pointWords(index: MapIndex, rgbOf: (cluster: number | null) => [number, number, number]): Uint32Array {
  const byCluster = new Map<number | null, number>();
  const out = new Uint32Array(index.xs.length);
  for (let i = 0; i < out.length; i++) {
    const c = index.points[i]!.cluster;
    let w = byCluster.get(c);
    if (w === undefined) {
      const [R, G, B] = rgbOf(c);
      w = ((0xff << 24) | (B << 16) | (G << 8) | R) >>> 0;
      byCluster.set(c, w);
    }
    out[i] = w;
  }
  return out;
}

/**
 * Paints the points as filled discs of radius r straight into a width x height RGBA pixel buffer, at
 * `to` (unit space to pixels), each in its colour from `words` (see pointWords): at 100k points this
 * takes milliseconds, where canvas arcs take a second. Only the grid cells that overlap the buffer
 * are visited, so a zoomed-in view costs only the points it shows.
 */
export function paintPoints(index: MapIndex, width: number, height: number, to: PixelTransform, r: number, words: Uint32Array): ImageData {
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
  index.visit(-to.x / to.scale - margin, -to.y / to.scale - margin, (width - to.x) / to.scale + margin, (height - to.y) / to.scale + margin, (i) => {
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
  });
  return img;
}
