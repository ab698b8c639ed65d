/**
 * Tensors as plain named arrays: what checkpoints, model files and the messages between the main
 * process and a compute side hold. No Node: the Electron GPU window's page uses them too
 * (safetensors.ts, which reads and writes them as files, is Node's).
 */

export interface NamedArray {
  shape: number[];
  data: Float32Array;
}

export interface SafetensorsContent {
  tensors: Map<string, NamedArray>;
  metadata: Record<string, string>;
}
