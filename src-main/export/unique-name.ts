import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import { splitExtension } from './safe-name';

function exists(p: string): boolean {
  try {
    lstatSync(p); // lstat: a dangling symlink still takes the name
    return true;
  } catch {
    return false;
  }
}

/**
 * A name in `dir` that is not taken on disk nor in `taken` (names given out in this run, compared
 * case-insensitively because macOS and Windows folders are): "name", then "name (2)", "name (3)", ...
 * before the extension for files ("cat (2).jpg"). The chosen name is added to `taken`.
 */
export function uniqueName(dir: string, name: string, taken: Set<string> = new Set(), isFile = false): string {
  const [base, ext] = isFile ? splitExtension(name) : [name, ''];
  for (let i = 1; ; i++) {
    const candidate = i === 1 ? name : `${base} (${i})${ext}`;
    if (taken.has(candidate.toLowerCase())) continue;
    if (exists(join(dir, candidate))) continue;
    taken.add(candidate.toLowerCase());
    return candidate;
  }
}
