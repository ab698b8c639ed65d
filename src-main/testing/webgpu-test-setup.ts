/**
 * Tests of the webgpu backend on a machine without a GPU run on SwiftShader, the software Vulkan
 * driver in Debian's chromium package (CI installs both it and the Vulkan loader, libvulkan1). The
 * Vulkan loader reads VK_ICD_FILENAMES when Dawn first asks for an adapter, so this must run before.
 */
import { existsSync } from 'node:fs';

export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

const VULKAN_LOADER = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib'].map((d) => `${d}/libvulkan.so.1`);

/**
 * Points Vulkan at SwiftShader (unless VK_ICD_FILENAMES is set already), and says why webgpu tests
 * cannot run here: only where Linux has no Vulkan loader at all. Anything else that keeps Dawn from
 * an adapter is a failure the tests report.
 */
export function useSoftwareGpu(): string | null {
  if (process.platform !== 'linux') return null;
  if (!VULKAN_LOADER.some((f) => existsSync(f))) return 'no Vulkan loader (libvulkan.so.1): apt-get install libvulkan1';
  if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  return null;
}
