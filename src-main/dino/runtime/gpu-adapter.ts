/// <reference types="@webgpu/types" />
/**
 * A WebGPU adapter as a user should read it: vendor, architecture, the native API under it (Metal,
 * D3D12, Vulkan), and whether it is a software rasteriser. No imports: the status probe reads this in
 * the app's main thread without loading tfjs, and a browser page can use it as it is.
 */

export interface GpuAdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** the native API under WebGPU: Metal, D3D12, Vulkan (or what the browser does not say: '') */
  api: string;
  /** a CPU implementation (SwiftShader, lavapipe): correct, far too slow to train on */
  software: boolean;
  /** the largest buffer the adapter allows, bytes: WebGPU tells no memory size, this is its floor */
  maxBufferSize: number;
}

/** The parts of GPUAdapter read here (Dawn's Node object and a browser's both have them). */
export type AdapterLike = Pick<GPUAdapter, 'features' | 'limits' | 'requestDevice'> & {
  info: Pick<GPUAdapterInfo, 'vendor' | 'architecture' | 'device' | 'description'> & { isFallbackAdapter?: boolean };
};

// CPU implementations by name: SwiftShader, Mesa's llvmpipe / lavapipe / softpipe, Windows' WARP
const SOFTWARE = /swiftshader|llvmpipe|lavapipe|softpipe|\bwarp\b|basic render/i;

export function summarizeAdapter(adapter: AdapterLike, api: string): GpuAdapterSummary {
  const i = adapter.info;
  const text = [i.vendor, i.architecture, i.device, i.description].join(' ');
  return {
    vendor: i.vendor,
    architecture: i.architecture,
    device: i.device,
    description: i.description,
    api,
    software: i.isFallbackAdapter === true || SOFTWARE.test(text),
    maxBufferSize: adapter.limits.maxBufferSize,
  };
}

/** One line for the status bar, `status` and the Training panel. */
export function describeAdapter(a: GpuAdapterSummary): string {
  const what = [a.vendor, a.architecture].filter(Boolean).join(' ') || 'unknown adapter';
  const where = [a.api ? `Dawn ${a.api}` : '', a.software ? 'software adapter' : ''].filter(Boolean).join(', ');
  const name = a.description || a.device;
  return `webgpu (${what}${where ? `, ${where}` : ''}${name ? `: ${name}` : ''})`;
}

/** Why the app passes over a software adapter unless asked for it by name. */
export function softwareAdapterSkipped(a: GpuAdapterSummary): string {
  return `only a software adapter (${describeAdapter(a)}), far slower than wasm; DINO_BACKEND=webgpu uses it anyway`;
}
