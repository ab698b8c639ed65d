import exifr from 'exifr';

// EXIF dates carry no time zone (OffsetTimeOriginal is rare), so taken-at is stored as the camera's
// local wall-clock time, "YYYY-MM-DDTHH:MM:SS", which sorts correctly as text.
const DATE_TAGS = ['DateTimeOriginal', 'CreateDate', 'DateTimeDigitized', 'ModifyDate', 'DateTime'] as const;

/** When the photo was taken, from its EXIF header; null when absent or unreadable. */
export async function readTakenAt(bytes: Uint8Array): Promise<string | null> {
  let tags: Record<string, unknown> | undefined;
  try {
    tags = (await exifr.parse(bytes, { pick: [...DATE_TAGS], reviveValues: false })) as Record<string, unknown> | undefined;
  } catch {
    return null; // a broken EXIF block must not fail an otherwise good photo
  }
  if (!tags) return null;
  for (const t of DATE_TAGS) {
    const s = normaliseExifDate(tags[t]);
    if (s) return s;
  }
  return null;
}

/** "2021:07:04 18:30:05" -> "2021-07-04T18:30:05"; null for empty or zeroed dates. */
export function normaliseExifDate(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const m = /^(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})/.exec(value.trim());
  if (!m) return null;
  const [, y, mo, d, h, mi, s] = m;
  if (y === '0000' || mo === '00' || d === '00') return null;
  return `${y}-${mo}-${d}T${h}:${mi}:${s}`;
}
