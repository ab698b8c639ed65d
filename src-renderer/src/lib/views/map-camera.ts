/**
 * The map's view arithmetic: where the fitted-zoom buffer sits on screen, how pointer, wheel and keys
 * move it, and how big dots are drawn. Pure functions of numbers, so they are tested without a DOM;
 * MapCanvas and MapView hold the state.
 */
import type { MapView } from './map-paint';

/** the wheel zooms within these scales (the keys do not stop) */
const MIN_SCALE = 0.05;
const MAX_SCALE = 40;
/** how far one arrow key press pans, in CSS pixels */
const KEY_PAN = 40;
const KEY_ZOOM = 1.25;

/** The view that shows the whole buffer (side `size` buffer pixels), centred in a width x height stage. */
export function fitView(width: number, height: number, size: number): MapView {
  const s = Math.min(width, height) / size;
  return { scale: s, tx: (width - size * s) / 2, ty: (height - size * s) / 2 };
}

/** A screen point (CSS pixels in the stage) in unit space [0,1]². */
export function toUnit(view: MapView, size: number, sx: number, sy: number): [number, number] {
  return [(sx - view.tx) / view.scale / size, (sy - view.ty) / view.scale / size];
}

/** A unit-space point on screen (CSS pixels in the stage). */
export function toScreen(view: MapView, size: number, ux: number, uy: number): [number, number] {
  return [ux * size * view.scale + view.tx, uy * size * view.scale + view.ty];
}

/** The view zoomed by one wheel event, about the pointer at (sx, sy): the point under it stays put. */
export function zoomAt(view: MapView, sx: number, sy: number, deltaY: number): MapView {
  const f = Math.exp(-deltaY * 0.0015);
  const scale = Math.min(MAX_SCALE, Math.max(MIN_SCALE, view.scale * f));
  const k = scale / view.scale;
  return { scale, tx: sx - (sx - view.tx) * k, ty: sy - (sy - view.ty) * k };
}

/**
 * The view after a key press: arrows pan, + (or =) and - zoom about the stage's centre, 0 asks for
 * the fitted view ('fit'). Null for any other key, which the map leaves to the browser.
 */
export function keyView(view: MapView, key: string, width: number, height: number): MapView | 'fit' | null {
  const moves: Record<string, [number, number]> = { ArrowLeft: [KEY_PAN, 0], ArrowRight: [-KEY_PAN, 0], ArrowUp: [0, KEY_PAN], ArrowDown: [0, -KEY_PAN] };
  const m = moves[key];
  if (m) return { ...view, tx: view.tx + m[0], ty: view.ty + m[1] };
  if (key === '+' || key === '=' || key === '-') {
    const k = key === '-' ? 1 / KEY_ZOOM : KEY_ZOOM;
    return { scale: view.scale * k, tx: width / 2 - (width / 2 - view.tx) * k, ty: height / 2 - (height / 2 - view.ty) * k };
  }
  return key === '0' ? 'fit' : null;
}

/** true when the blit would magnify the buffer: one buffer pixel covers more than a device pixel */
export function isMagnified(view: MapView, dpr: number): boolean {
  return view.scale * dpr > 1.05;
}

/** The dot radius (CSS px) at the fitted zoom: fewer points, bigger dots. */
export function fittedDotRadius(count: number): number {
  return count > 20_000 ? 1.3 : count > 2000 ? 2.5 : 5;
}

/**
 * The dot radius in device pixels when the view is painted again at its zoom: dots grow with the
 * zoom, but slower than it, so crowded clusters open up instead of merging.
 */
export function detailDotRadius(dotR: number, scale: number, dpr: number): number {
  const zoom = scale * dpr;
  return dpr * Math.min(6, dotR * Math.sqrt(zoom));
}

/**
 * The buffer's side: the stage's shorter side (`side`, CSS px; 700 before the stage has a size) in
 * device pixels, so that at the fitted zoom one buffer pixel is one device pixel and the blit is a
 * plain copy; 4096 at most.
 */
export function bufferSize(width: number, height: number, dpr: number): { side: number; size: number } {
  const side = Math.max(200, Math.min(width, height) || 700);
  return { side, size: Math.min(4096, Math.round(side * dpr)) };
}
