// Cluster names become folder names on Linux, macOS and Windows (an export may be copied to any of
// them, or written to a FAT/exFAT stick), so the rules are the union of all three.

/** Windows' reserved device names, with or without an extension (CON, con.txt, COM1, LPT9, ...). */
const RESERVED = /^(con|prn|aux|nul|conin\$|conout\$|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$/i;
/** forbidden on Windows (and '/' everywhere), plus control characters */
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[<>:"/\\|?*\u0000-\u001f\u007f]/g;

/** Longest name in UTF-8 bytes: ext4/APFS allow 255; we leave room for " (123)" and an extension. */
const MAX_NAME_BYTES = 120;

/**
 * A name that is a valid, harmless file or folder name everywhere: forbidden characters and control
 * characters become '_', trailing dots and spaces (which Windows silently drops) are removed, a
 * leading dot (hidden on Unix; '.' and '..') becomes '_', reserved device names get a '_' prefix,
 * and the length is capped in UTF-8 bytes without splitting a character. Empty -> `fallback`.
 */
export function safeFileName(name: string, fallback = 'unnamed', maxBytes = MAX_NAME_BYTES): string {
  let s = name.normalize('NFC').replace(FORBIDDEN, '_').trim();
  s = s.replace(/^\.+/, (dots) => '_'.repeat(dots.length));
  s = s.replace(/[. ]+$/, '');
  if (s === '') s = fallback;
  if (RESERVED.test(s)) s = `_${s}`;
  if (Buffer.byteLength(s, 'utf8') > maxBytes) {
    const chars = [...s];
    while (chars.length && Buffer.byteLength(chars.join(''), 'utf8') > maxBytes) chars.pop();
    s = chars.join('').replace(/[. ]+$/, '');
    if (s === '') s = fallback;
  }
  return s;
}

/** Splits "photo.final.jpg" into ["photo.final", ".jpg"]; a dot-less or dot-first name has no extension. */
export function splitExtension(name: string): [string, string] {
  const i = name.lastIndexOf('.');
  return i > 0 ? [name.slice(0, i), name.slice(i)] : [name, ''];
}

/** A safe file name that keeps the extension when the base has to be shortened. */
export function safeFileNameKeepExt(name: string, fallback = 'photo'): string {
  const [base, ext] = splitExtension(name);
  const extBody = ext.length > 1 && ext.length <= 16 ? safeFileName(ext.slice(1), '', 15) : '';
  const safeExt = extBody ? `.${extBody}` : '';
  return safeFileName(`${safeFileName(base, fallback, MAX_NAME_BYTES - Buffer.byteLength(safeExt))}${safeExt}`, fallback);
}
