/**
 * A batch of crops, as bytes (RGB, NHWC, what the augmentation writes), becomes the network's input:
 * float32, ImageNet-normalised. On the webgpu backend the bytes are uploaded as they are and
 * normalised on the GPU (webgpu-kernels.ts): a quarter of the float upload. Elsewhere tensors live in
 * the same memory as JS, so the values are normalised while they are copied in.
 */
import * as tf from '@tensorflow/tfjs-core';

/** transforms.Normalize's ImageNet statistics, as the official pipeline (and every DINO checkpoint) uses them */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

/** Kernel name of the GPU's unpack-and-normalise op (webgpu-kernels.ts): inputs { packed: int32 [n / 4] }, attrs { shape }. */
export const NORMALIZE_BYTES = 'DinoNormalizeBytes';

export function imageBatch(bytes: Uint8Array, shape: [number, number, number, number]): tf.Tensor4D {
  const n = shape[0] * shape[1] * shape[2] * shape[3];
  if (bytes.length < n) throw new Error(`imageBatch: ${bytes.length} bytes for a batch of shape [${shape}]`);
  if (tf.getBackend() === 'webgpu' && n % 4 === 0 && bytes.byteOffset % 4 === 0) {
    const packed = tf.tensor1d(new Int32Array(bytes.buffer, bytes.byteOffset, n / 4), 'int32');
    try {
      return tf.engine().runKernel(NORMALIZE_BYTES, { packed }, { shape } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
    } finally {
      packed.dispose();
    }
  }
  const x = new Float32Array(n);
  for (let i = 0; i < n; i += 3) {
    x[i] = (bytes[i]! / 255 - IMAGENET_MEAN[0]) / IMAGENET_STD[0];
    x[i + 1] = (bytes[i + 1]! / 255 - IMAGENET_MEAN[1]) / IMAGENET_STD[1];
    x[i + 2] = (bytes[i + 2]! / 255 - IMAGENET_MEAN[2]) / IMAGENET_STD[2];
  }
  return tf.tensor4d(x, shape);
}
