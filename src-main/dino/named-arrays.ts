/**
 * Tensors as plain named arrays: what checkpoints, model files and the messages between the main
 * process and a compute side hold. No Node: the Electron GPU window's page uses them too
 * (weights/safetensors.ts, which reads and writes them as files, is Node's).
 */
import type * as tf from '@tensorflow/tfjs-core';
import { readValues } from './runtime/gpu-errors';

export interface NamedArray {
  shape: number[];
  data: Float32Array;
}

export interface SafetensorsContent {
  tensors: Map<string, NamedArray>;
  metadata: Record<string, string>;
}

/** Every tensor's values, read in parallel (on a GPU, one wait for all the copies). */
export async function readNamed(named: Iterable<[string, tf.Tensor]>): Promise<Map<string, NamedArray>> {
  const list = [...named];
  const data = await Promise.all(list.map(([, t]) => readValues(t)));
  return new Map(list.map(([n, t], i) => [n, { shape: [...t.shape], data: data[i]! }]));
}
