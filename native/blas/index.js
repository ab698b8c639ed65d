// Loads the optional native BLAS addon: returns null when it was not built or finds no usable BLAS.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

/** Where `npm ci` (or `npm run build:native`) puts the built addon. */
export const addonFile = join(dirname(fileURLToPath(import.meta.url)), 'build', 'Release', 'dino_blas.node');

/** @returns {null | { library: string, gemm: Function, setThreads(n: number): void, getThreads(): number, config(): string }} */
export function loadNativeBlas() {
  let addon;
  try {
    addon = require(addonFile);
  } catch {
    return null;
  }
  const extra = process.env.DINO_BLAS_LIB ? [process.env.DINO_BLAS_LIB] : [];
  const library = addon.init(extra);
  if (!library) return null;
  return { library, gemm: addon.gemm, setThreads: addon.setThreads, getThreads: addon.getThreads, config: addon.config };
}
