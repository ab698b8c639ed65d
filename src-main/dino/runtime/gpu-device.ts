/**
 * A WebGPU adapter as tfjs's `webgpu` backend: the device asked for the adapter's own limits (as
 * tfjs-backend-webgpu's registration does), watched for out-of-memory errors and loss
 * (gpu-errors.ts), with our kernels installed. Plain WebGPU and tfjs: a browser page (the Electron GPU
 * window) starts its backend the same way, with navigator.gpu's adapter; Node finds the adapter
 * through Dawn (node/dawn.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { AdapterLike } from './gpu-adapter';
import { expectDeviceLoss, watchGpuDevice } from './gpu-errors';
import { installWebgpuKernels } from './webgpu-kernels';

let current: GPUDevice | null = null;

/**
 * Creates the device and makes it tfjs's active `webgpu` backend. The limits asked for are the
 * adapter's own (WebGPU's defaults cap a storage binding at 128 MiB, too small for a ViT's batches).
 */
export async function startWebgpuBackend(adapter: AdapterLike): Promise<void> {
  const requiredFeatures = (['timestamp-query', 'bgra8unorm-storage'] as const).filter((f) => adapter.features.has(f));
  const l = adapter.limits;
  const device = await adapter.requestDevice({
    requiredFeatures,
    requiredLimits: {
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
    },
  });
  watchGpuDevice(device);
  current = device;
  installWebgpuKernels();
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', () => new WebGPUBackend(device, adapter.info as GPUAdapterInfo), 3);
  if (!(await tf.setBackend('webgpu'))) throw new Error('tfjs could not start its webgpu backend on this device');
}

/** Ends the backend and destroys its device (a live device keeps a Node process running). */
export function stopWebgpuBackend(): void {
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  if (current) expectDeviceLoss(current);
  current?.destroy();
  current = null;
}
