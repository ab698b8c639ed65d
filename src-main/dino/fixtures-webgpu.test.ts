/**
 * The PyTorch fixtures of fixtures.test.ts on the webgpu backend, with the same tolerances. On a
 * machine without a GPU it runs on SwiftShader (src-main/testing/webgpu-test-setup.ts); it is skipped only where Linux
 * has no Vulkan loader at all.
 */
import { describe, it } from 'vitest';
import { useSoftwareGpu } from '../testing/webgpu-test-setup';

const missing = useSoftwareGpu();
if (!missing) {
  process.env.DINO_FIXTURES_BACKEND = 'webgpu';
  // the fixture suite registers its tests in this file; the env var must be set before it loads
  await import('./fixtures.test');
} else {
  describe.skip('DINO fixtures on webgpu', () => {
    it(`needs a Vulkan loader: ${missing}`, () => {});
  });
}
