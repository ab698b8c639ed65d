// Loads the optional native BLAS addon: returns null when it was not built or finds no OpenBLAS.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** @returns {null | { library: string, gemm: Function, setThreads(n: number): void, getThreads(): number, config(): string }} */
export function loadNativeBlas() {
  let addon;
  try {
    addon = require('./build/Release/dino_blas.node');
  } catch {
    return null;
  }
  const extra = process.env.DINO_BLAS_LIB ? [process.env.DINO_BLAS_LIB] : [];
  const library = addon.init(extra);
  if (!library) return null;
  return { library, gemm: addon.gemm, setThreads: addon.setThreads, getThreads: addon.getThreads, config: addon.config };
}
