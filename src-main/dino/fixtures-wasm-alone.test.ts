/**
 * fixtures.test.ts runs on the default path: with the native BLAS addon built (npm run build:native)
 * that is wasm + native kernels. This file runs the same PyTorch comparisons on wasm's own kernels
 * (DINO_NATIVE=0), so both paths are held to the fixtures. Without the addon the main file already
 * covers wasm alone and this one is skipped.
 */
import { describe, it } from 'vitest';
import { loadNativeBlas } from './runtime/node/native-kernels';

if (loadNativeBlas()) {
  process.env.DINO_NATIVE = '0';
  // the fixture suite registers its tests in this file; the env var must be set before it loads
  await import('./fixtures.test');
} else {
  describe.skip('DINO fixtures on wasm alone', () => {
    it('is covered by fixtures.test.ts: the native BLAS addon is not built (npm run build:native)', () => {});
  });
}
