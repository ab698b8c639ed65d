/**
 * The map's canvas work that holds no component state: painting points into a 2-D context, and
 * composing a frame from the fitted-zoom buffer and the zoomed-in detail canvas. MapView owns the
 * state (view, buffer, detail) and passes it in.
 */
import { NO_CLUSTER } from '../../../../src-shared/api';
import { clusterColour, paintPoints, type MapIndex, type PixelTransform } from './map-index';

/** the view: buffer pixels are scaled by `scale` and shifted by (tx, ty) CSS pixels */
export interface MapView {
  scale: number;
  tx: number;
  ty: number;
}

/** what is in view painted at full quality for one view (`at`), reused while it moves until it settles */
export interface DetailCanvas {
  canvas: HTMLCanvasElement;
  at: MapView;
  w: number;
  h: number;
}

/** Paints the points into a 2D context: pixels for many points, smooth discs for few. */
export function paintInto(ctx: CanvasRenderingContext2D, index: MapIndex, words: Uint32Array, w: number, h: number, to: PixelTransform, r: number, dark: boolean): void {
  if (index.xs.length > 5000) {
    // many points: straight into pixels (milliseconds for 100k)
    ctx.putImageData(paintPoints(index, w, h, to, r, words), 0, 0);
    return;
  }
  // few points: smooth discs, still one pass (on a cleared canvas: the detail canvas is reused)
  const m = r / to.scale;
  ctx.clearRect(0, 0, w, h);
  index.visit(-to.x / to.scale - m, -to.y / to.scale - m, (w - to.x) / to.scale + m, (h - to.y) / to.scale + m, (i) => {
    const c = index.points.clusters[i]!;
    ctx.fillStyle = clusterColour(c === NO_CLUSTER ? null : c, dark);
    ctx.beginPath();
    ctx.arc(index.xs[i]! * to.scale + to.x, index.ys[i]! * to.scale + to.y, r, 0, Math.PI * 2);
    ctx.fill();
  });
}

export function sameView(a: MapView, b: MapView): boolean {
  return a.scale === b.scale && a.tx === b.tx && a.ty === b.ty;
}

function blitBuffer(ctx: CanvasRenderingContext2D, buffer: HTMLCanvasElement, view: MapView, dpr: number): void {
  ctx.setTransform(dpr * view.scale, 0, 0, dpr * view.scale, dpr * view.tx, dpr * view.ty);
  // a device-pixel-exact blit at the fitted zoom; smoothing only when shrinking
  ctx.imageSmoothingEnabled = view.scale * dpr < 0.999;
  ctx.drawImage(buffer, 0, 0);
}

/**
 * Draws one frame: the detail canvas (when given) moved and scaled from the view it was painted at to
 * this one, and the buffer wherever the detail does not reach (the strip a pan uncovers, until it
 * settles); the buffer alone otherwise. Returns whether the frame is at full quality.
 */
export function composeFrame(ctx: CanvasRenderingContext2D, width: number, height: number, buffer: HTMLCanvasElement, view: MapView, dpr: number, detail: DetailCanvas | null): boolean {
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, width, height);
  if (!detail) {
    blitBuffer(ctx, buffer, view, dpr);
    return false;
  }
  const k = view.scale / detail.at.scale;
  const x = dpr * (view.tx - detail.at.tx * k);
  const y = dpr * (view.ty - detail.at.ty * k);
  ctx.save();
  ctx.beginPath();
  ctx.rect(0, 0, width, height);
  ctx.rect(x, y, detail.w * k, detail.h * k);
  ctx.clip('evenodd');
  blitBuffer(ctx, buffer, view, dpr);
  ctx.restore();
  ctx.setTransform(k, 0, 0, k, x, y);
  ctx.imageSmoothingEnabled = k !== 1;
  ctx.drawImage(detail.canvas, 0, 0);
  return sameView(detail.at, view);
}
