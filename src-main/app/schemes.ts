// Names shared by the main process and the preload (no Electron import here, so both can use it).

/** the renderer's own origin: app://dino/index.html, served from out/renderer */
export const APP_SCHEME = 'app';
export const APP_HOST = 'dino';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;

/** photos and thumbnails by catalog id: dino-photo://photo/<id>/<thumb|full> */
export const PHOTO_SCHEME = 'dino-photo';

export function photoUrl(id: number, kind: 'thumb' | 'full'): string {
  if (!Number.isSafeInteger(id) || id < 0) throw new Error(`bad photo id ${id}`);
  return `${PHOTO_SCHEME}://photo/${id}/${kind === 'full' ? 'full' : 'thumb'}`;
}

/** The renderer's CSP in the app: as web mode's, plus the photo scheme. */
export function appContentSecurityPolicy(devServer?: string): string {
  const dev = devServer ? ` ${new URL(devServer).origin} ws://${new URL(devServer).host}` : '';
  return [
    "default-src 'self'",
    `script-src 'self'${dev}`,
    // Vite's dev server injects component styles as <style> tags; the built app needs no inline style.
    `style-src 'self'${devServer ? " 'unsafe-inline'" : ''}`,
    `img-src 'self' ${PHOTO_SCHEME}: blob: data:`,
    `connect-src 'self'${dev}`,
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}
