import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** the checkout's root (src-main/server/../..) */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** where `npm run build` (electron-vite) and web mode's on-demand build put the UI */
export const defaultRendererDir = resolve(repoRoot, 'out', 'renderer');
