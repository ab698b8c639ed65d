import { relative, sep } from 'node:path';

/**
 * The label of a photo in a labelled folder tree is its first sub-folder under the data root
 * (ImageFolder layout: DIR/<class>/.../photo.jpg). Photos directly in DIR have no label.
 */
export function labelOf(dataDir: string, photoPath: string): string | null {
  const rel = relative(dataDir, photoPath);
  if (rel.startsWith('..')) return null;
  const parts = rel.split(sep);
  return parts.length >= 2 ? parts[0]! : null;
}

/** Maps label strings to dense integer ids in sorted order (stable across runs). */
export function encodeLabels(labels: string[]): { ids: Int32Array; classes: string[] } {
  const classes = [...new Set(labels)].sort();
  const index = new Map(classes.map((c, i) => [c, i]));
  return { ids: Int32Array.from(labels, (l) => index.get(l)!), classes };
}
