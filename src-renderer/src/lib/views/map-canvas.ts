/**
 * The map's canvas machinery, outside Svelte's reactivity on purpose: the view changes per pointer
 * move and only feeds the draw. Every point is painted once into an offscreen buffer, which each
 * frame only blits; zoomed in, what is in view is painted again at full quality once the view settles.
 * MapView owns the reactive state (hover, box, selection, drag) and the pointer handlers.
 */
import type { MapPointColumns } from '../../../../src-shared/api';
import { bufferSize, detailDotRadius, fitView, fittedDotRadius, isMagnified, toScreen, toUnit } from './map-camera';
import { MapIndex, clusterRgb, paintPointsSteps, pointWordsSteps, type PixelTransform } from './map-index';
import { composeFrame, paintInto, sameView, type DetailCanvas, type MapView } from './map-paint';
import { TimeSlices } from './time-slices';

/** how near (CSS px) the pointer has to be to a dot to hover or open it */
const HOVER_PX = 8;
/** how long the view has to stay still before the zoomed-in view is painted again at full quality */
const SETTLE_MS = 120;
/** the most main-thread time one step of the preparation takes before it yields to a frame */
const SLICE_MS = 12;

export const prefersDark = (): boolean => window.matchMedia?.('(prefers-color-scheme: dark)').matches ?? false;

const dpr = (): number => window.devicePixelRatio || 1;

/** the hovered point: its index, the pointer, and where its dot is drawn (all CSS pixels) */
export interface HoveredDot {
  i: number;
  x: number;
  y: number;
  dotX: number;
  dotY: number;
}

/** what MapCanvas reads from the component, when it needs it */
export interface MapHost {
  canvas(): HTMLCanvasElement | undefined;
  width(): number;
  height(): number;
  /** while the pointer drags, the zoomed-in view is not painted again */
  dragging(): boolean;
  /** fit() moved every dot: what sits over one (the hover ring) has to go */
  fitted(): void;
}

export class MapCanvas {
  /** buffer pixels are scaled by `scale` and shifted by (tx, ty) CSS pixels; replaced, never mutated */
  view: MapView = { scale: 1, tx: 0, ty: 0 };
  index: MapIndex | null = null;
  /** the buffer's side (see bufferSize) */
  private size = 2048;
  private buffer: HTMLCanvasElement | null = null;
  private bufferMs = 0;
  /** the dot radius (CSS px) at the fitted zoom */
  private dotR = 1.3;
  /**
   * Zoomed in, the blit magnifies the buffer's pixels into blocks: once the view stops moving, the
   * points in view are painted again at the current zoom into this screen-sized canvas, which is then
   * blitted (moved and scaled) like the buffer until the next repaint. `at` is the view it was painted at.
   */
  private detail: DetailCanvas | null = null;
  private detailMs = 0;
  private settle: ReturnType<typeof setTimeout> | undefined;
  /** each point's colour as an RGBA word (many points are painted as pixels) */
  private words: Uint32Array = new Uint32Array(0);
  private frame = 0;

  constructor(private readonly host: MapHost) {}

  /** true once the points are painted into the buffer: there is something to draw */
  get ready(): boolean {
    return this.buffer !== null;
  }

  /** Forgets the points (new ones are coming, or none). */
  reset(): void {
    this.detail = null;
    this.index = null;
    this.buffer = null;
  }

  /**
   * Indexes the points and paints them into the buffer, in steps with a yield between them: for
   * 100k points the whole is 15-100 ms depending on the machine's load and the JIT's warmth, and no
   * step of it should hold the main thread for more than a few tens of milliseconds.
   */
  async prepare(pts: MapPointColumns, cancelled: () => boolean): Promise<void> {
    const slices = new TimeSlices(cancelled, SLICE_MS);
    const idx = await slices.run(MapIndex.build(pts));
    if (!idx) return;
    const isDark = prefersDark();
    const many = pts.count > 5000;
    const w = many ? await slices.run(pointWordsSteps(idx, (c) => clusterRgb(c, isDark))) : new Uint32Array(0);
    if (!w) return;
    const { side, size } = bufferSize(this.host.width(), this.host.height(), dpr());
    // dot radius in screen pixels at the fitted zoom, converted to buffer pixels
    const r = fittedDotRadius(pts.count);
    // many points: their pixels, painted in slices (few: smooth discs in one step, below)
    const img = many ? await slices.run(paintPointsSteps(idx, size, size, { scale: size, x: 0, y: 0 }, (r * size) / side, w)) : null;
    if (many && !img) return;
    this.index = idx;
    this.words = w;
    this.size = size;
    this.dotR = r;
    const b = await slices.step(() => {
      const c = document.createElement('canvas');
      c.width = size;
      c.height = size;
      const ctx = c.getContext('2d');
      if (ctx && img) ctx.putImageData(img, 0, 0);
      else if (ctx) this.paint(ctx, size, size, { scale: size, x: 0, y: 0 }, (r * size) / side);
      return ctx ? c : null;
    });
    if (!b) return;
    this.buffer = b;
    // how long the one-off preparation (index + drawing every point) took, yields excluded, for the perf test
    this.bufferMs = slices.busy;
    this.fit();
  }

  private paint(ctx: CanvasRenderingContext2D, w: number, h: number, to: PixelTransform, r: number): void {
    if (this.index) paintInto(ctx, this.index, this.words, w, h, to, r, prefersDark());
  }

  private magnified(): boolean {
    return isMagnified(this.view, dpr());
  }

  /** Paints what is in view at the current zoom into the detail canvas (see `detail`). */
  private paintDetail(): void {
    this.settle = undefined;
    if (!this.index || !this.buffer || !this.magnified() || this.host.dragging()) return;
    if (this.detail && sameView(this.detail.at, this.view)) return;
    const t0 = performance.now();
    const ratio = dpr();
    const w = Math.max(1, Math.round(this.host.width() * ratio));
    const h = Math.max(1, Math.round(this.host.height() * ratio));
    const c = this.detail?.canvas ?? document.createElement('canvas');
    // resizing reallocates the backing store: only when the view's size changed
    if (c.width !== w || c.height !== h) {
      c.width = w;
      c.height = h;
    }
    const ctx = c.getContext('2d');
    if (!ctx) return;
    const { view } = this;
    this.paint(ctx, w, h, { scale: this.size * view.scale * ratio, x: view.tx * ratio, y: view.ty * ratio }, detailDotRadius(this.dotR, view.scale, ratio));
    this.detail = { canvas: c, at: { ...view }, w, h };
    this.detailMs = performance.now() - t0;
    this.schedule();
  }

  /** Called on every view change: the blit follows at once, a full-quality repaint when it settles. */
  viewChanged(): void {
    this.schedule();
    clearTimeout(this.settle);
    this.settle = this.magnified() ? setTimeout(() => this.paintDetail(), SETTLE_MS) : undefined;
  }

  fit(): void {
    this.view = fitView(this.host.width(), this.host.height(), this.size);
    this.host.fitted();
    this.viewChanged();
  }

  private schedule(): void {
    if (!this.frame) this.frame = requestAnimationFrame(() => this.draw());
  }

  private draw(): void {
    this.frame = 0;
    const el = this.host.canvas();
    if (!el || !this.buffer) return;
    const ratio = dpr();
    const width = this.host.width();
    const height = this.host.height();
    if (el.width !== Math.round(width * ratio) || el.height !== Math.round(height * ratio)) {
      el.width = Math.round(width * ratio);
      el.height = Math.round(height * ratio);
    }
    const ctx = el.getContext('2d');
    if (!ctx) return;
    const magnify = this.magnified();
    const sharp = composeFrame(ctx, el.width, el.height, this.buffer, this.view, ratio, magnify ? this.detail : null);
    // for the perf test and tools: how long the one-off preparation (index + drawing every point) and
    // the last repaint of a zoomed-in view took, and whether this frame is drawn at full quality (not
    // a magnified buffer, or a repaint made at exactly this view)
    el.dataset.prepareMs = this.bufferMs.toFixed(0);
    el.dataset.detailMs = this.detail ? this.detailMs.toFixed(0) : '';
    el.dataset.fullQuality = String(!magnify || sharp);
    // where the first photo's dot is on screen: lets tests (and tools) aim at a real point
    const index = this.index;
    if (index && index.xs.length) el.dataset.firstDot = this.toScreen(index.xs[0]!, index.ys[0]!).map((v) => v.toFixed(1)).join(',');
  }

  /** Stops the pending repaint (the component is going). */
  dispose(): void {
    clearTimeout(this.settle);
  }

  toUnit(sx: number, sy: number): [number, number] {
    return toUnit(this.view, this.size, sx, sy);
  }

  toScreen(ux: number, uy: number): [number, number] {
    return toScreen(this.view, this.size, ux, uy);
  }

  /** The point whose dot is under the screen point (sx, sy), or -1. */
  pointAt(sx: number, sy: number): number {
    if (!this.index) return -1;
    const [ux, uy] = this.toUnit(sx, sy);
    return this.index.nearest(ux, uy, HOVER_PX / (this.view.scale * this.size));
  }
}
