import { extname } from 'node:path';

/** The photo formats the library imports, recognised by file extension during the scan. */
export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'tiff' | 'avif' | 'heic';

const BY_EXTENSION: Readonly<Record<string, ImageFormat>> = {
  '.jpg': 'jpeg',
  '.jpeg': 'jpeg',
  '.jpe': 'jpeg',
  '.jfif': 'jpeg',
  '.png': 'png',
  '.webp': 'webp',
  '.gif': 'gif',
  '.tif': 'tiff',
  '.tiff': 'tiff',
  '.avif': 'avif',
  '.heic': 'heic',
  '.heif': 'heic',
  '.hif': 'heic',
};

/** The format a file name claims, or null when the scan should ignore the file. */
export function formatOfPath(path: string): ImageFormat | null {
  return BY_EXTENSION[extname(path).toLowerCase()] ?? null;
}

/** Formats every browser shows as they are; the others (TIFF, HEIC) are converted to JPEG to view. */
export const BROWSER_CONTENT_TYPES: Readonly<Partial<Record<ImageFormat, string>>> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
  avif: 'image/avif',
};
