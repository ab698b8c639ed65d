import { fitted, run, type OpenedImage } from './decode';

/** Thumbnails fit inside this square: sharp enough for a grid cell on a high-DPI screen. */
export const THUMB_SIZE = 256;
const THUMB_QUALITY = 80;

/** JPEG bytes of the thumbnail; throws DecodeError when the photo cannot be decoded. */
export function renderThumbnail(img: OpenedImage, size = THUMB_SIZE): Promise<Buffer> {
  return run(() => fitted(img, size).jpeg({ quality: THUMB_QUALITY }).toBuffer());
}
