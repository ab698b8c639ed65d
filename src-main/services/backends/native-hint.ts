import { existsSync } from 'node:fs';
import { addonFile } from '../../../native/blas/index.js';

/**
 * What a user on wasm alone can do for the native BLAS path (training steps ~4x faster, README), for
 * this platform and for the reason it is missing: the addon not built, or built but no BLAS found.
 */
export function nativeBlasHint(platform: NodeJS.Platform = process.platform, built = existsSync(addonFile)): string {
  if (process.env.DINO_NATIVE === '0') return 'The native BLAS path is turned off (DINO_NATIVE=0).';
  if (platform === 'win32') return 'Training runs on wasm: the native BLAS path is not available on Windows.';
  const faster = 'Training runs about 4x faster with the native BLAS path:';
  if (platform === 'darwin') {
    // Accelerate is part of macOS: only the compiler can be missing
    return `${faster} install Apple's command line tools (xcode-select --install), then run npm run build:native.`;
  }
  const openblas = 'OpenBLAS (Debian/Ubuntu: sudo apt-get install libopenblas0-pthread; Fedora: sudo dnf install openblas)';
  if (built) return `${faster} install ${openblas}, then restart.`;
  return `${faster} install a C compiler (Debian/Ubuntu: sudo apt-get install build-essential) and ${openblas}, then run npm run build:native.`;
}
