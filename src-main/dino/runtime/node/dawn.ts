/// <reference types="@webgpu/types" />
/**
 * Dawn's Node bindings (the `webgpu` package): WebGPU for Node on Metal (macOS), D3D12 (Windows) and
 * Vulkan (Linux, and Windows as a second choice), with prebuilt binaries in the package. No tfjs here:
 * the status probe finds the adapter in the app's main thread without loading it.
 */

/** What a user can do when Dawn finds no adapter. */
export const NO_ADAPTER =
  'no GPU adapter found (on Linux install a Vulkan driver, e.g. mesa-vulkan-drivers or the GPU vendor\'s; ' +
  'a software one for tests: VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json)';

/** Dawn's native backends worth trying on this platform, best first, with the name a user knows. */
function dawnBackends(): [option: string, api: string][] {
  if (process.platform === 'darwin') return [['metal', 'Metal']];
  if (process.platform === 'win32') return [['d3d12', 'D3D12'], ['vulkan', 'Vulkan']];
  return [['vulkan', 'Vulkan']];
}

export interface DawnModule {
  create(options: string[]): GPU;
  globals: object;
}

// one Dawn instance per native API for the life of the process: a device is made again on the same
// instance (dropping an instance while Dawn's threads run has crashed the process); with no live
// device an instance does not keep Node running
const instances = new Map<string, GPU>();

/** The first adapter Dawn finds, and the API it came through; null when none. */
export async function findDawnAdapter(dawn: DawnModule): Promise<{ gpu: GPU; adapter: GPUAdapter; api: string } | null> {
  for (const [option, api] of dawnBackends()) {
    let gpu = instances.get(option);
    if (!gpu) instances.set(option, (gpu = dawn.create([`backend=${option}`])));
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (adapter) return { gpu, adapter, api };
  }
  return null;
}

/** Why WebGPU cannot run in this process, or null when Dawn may be loaded here. */
export function webgpuUnavailableHere(): string | null {
  // dawn.node's external buffers are refused by Electron's V8 sandbox (dawn-gpu/node-webgpu issue 5)
  if (process.versions.electron) return "Dawn's Node bindings do not load inside Electron";
  return null;
}

/**
 * Makes `gpu` navigator.gpu, as in a browser: tfjs-backend-webgpu checks for it. Node 20 has no
 * navigator; later versions have one without `gpu`.
 */
export function exposeNavigatorGpu(gpu: GPU): void {
  const g = globalThis as { navigator?: object };
  if (g.navigator) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true, writable: true });
  else Object.defineProperty(g, 'navigator', { value: { gpu }, configurable: true, writable: true });
}

/** Dawn's Node module with WebGPU's globals (GPUBufferUsage, …) installed, as tfjs-backend-webgpu needs them. */
export async function loadDawn(): Promise<DawnModule> {
  const dawn = (await import('webgpu')) as unknown as DawnModule;
  Object.assign(globalThis, dawn.globals);
  return dawn;
}
