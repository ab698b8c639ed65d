/**
 * The one kernel of our own on the webgpu backend: crop pixels arrive as bytes and become the
 * network's normalised floats on the GPU. Bytes are uploaded four to an int32 (tfjs has no uint8
 * dtype, and an int32 per pixel value would upload 4x the bytes), and one shader unpacks them and
 * applies ImageNet's mean and std: (byte / 255 - mean) / std = byte * scale - shift. Browser-safe:
 * the Electron GPU window runs the same kernel.
 */
import * as tf from '@tensorflow/tfjs-core';
import { webgpu_util, type WebGPUBackend, type WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { IMAGENET_MEAN, IMAGENET_STD, NORMALIZE_BYTES } from './image-batch';

const f32 = (x: number): string => `${Math.fround(x)}`;
const SCALE = IMAGENET_STD.map((s) => f32(1 / (255 * s)));
const SHIFT = IMAGENET_MEAN.map((m, c) => f32(m / IMAGENET_STD[c]!));

class NormalizeBytesProgram implements WebGPUProgram {
  variableNames = ['packed'];
  outputShape: number[];
  shaderKey = 'dino_normalize_bytes';
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [128, 1, 1];
  size = true;

  constructor(shape: number[]) {
    this.outputShape = shape;
    this.dispatchLayout = webgpu_util.flatDispatchLayout(shape);
    this.dispatch = webgpu_util.computeDispatch(this.dispatchLayout, shape, this.workgroupSize);
  }

  getUserCode(): string {
    // pixels are interleaved RGB, so a value's channel is its flat index mod 3
    return `
      fn main(index : i32) {
        if (index < uniforms.size) {
          let word = bitcast<u32>(packed[index / 4]);
          let byte = (word >> (8u * u32(index % 4))) & 255u;
          var scale = array<f32, 3>(${SCALE.join(', ')});
          var shift = array<f32, 3>(${SHIFT.join(', ')});
          let c = index % 3;
          setOutputAtIndex(index, f32(byte) * scale[c] - shift[c]);
        }
      }
    `;
  }
}

let installed = false;

/** Registers the kernel for the webgpu backend (once). */
export function installWebgpuKernels(): void {
  if (installed) return;
  installed = true;
  tf.registerKernel({
    kernelName: NORMALIZE_BYTES,
    backendName: 'webgpu',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const shape = (attrs as unknown as { shape: number[] }).shape;
      return (backend as WebGPUBackend).runWebGPUProgram(new NormalizeBytesProgram(shape), [inputs.packed!], 'float32');
    },
  });
}
