/**
 * GPU memory of a training step, estimated, and a GPU preset sized to an adapter by it. WebGPU tells
 * no memory size, only the largest buffer an adapter allows (`maxBufferSize`, a floor of its memory);
 * DINO_GPU_MEMORY_GB overrides that. The size of a step is cut with gradient accumulation, which
 * changes memory and not the result: the batch runs as accumSteps micro-batches (step.ts).
 */
import { headParamShapes } from '../model/head';
import { netConfigs } from './net-configs';
import type { DinoConfig } from './presets';
import { KEEP_ACTIVATIONS_BYTES, keptActivationBytes } from './step';
import { vitParamShapes } from '../model/vit';

const count = (shapes: [string, number[]][]): number => shapes.reduce((a, [, s]) => a + s.reduce((x, y) => x * y, 1), 0);

/** tfjs-backend-webgpu's own buffers beside the tensors (uniforms, staging copies for reads) */
export const BACKEND_OVERHEAD = 8 * 2 ** 20;

/**
 * Bytes a step of `config` holds at its peak on the GPU, for one micro-batch. Counted: student and
 * teacher parameters, AdamW's two moments, the gradient and its running sum (6 copies of the
 * parameters); the crops and their patches; the student's block inputs (the per-block recomputation
 * keeps them) and the intermediates of the block being differentiated with their gradients (all blocks'
 * when they are kept, step.ts); the head's activations and the loss's [crops x K] rows, forward and
 * backward. tfjs's buffer pool reuses freed buffers by size only, so the sum is doubled. Checked
 * against the pool's size on small configs (webgpu.test.ts); on real GPUs an estimate, no more.
 */
export function gpuStepBytes(config: DinoConfig): number {
  const { vit, head } = netConfigs(config).student;
  const params = count(vitParamShapes(vit)) + count(headParamShapes(head));
  const mb = config.batchSize / config.accumSteps;
  const crops: [number, number][] = [
    [2 * mb, config.globalSize],
    [config.nLocal * mb, config.localSize],
  ];
  const cropShapes = crops.map(([n, s]) => [n, s, s, 3]);
  const tokens = crops.reduce((a, [n, s]) => a + n * (Math.floor(s / vit.patchSize) ** 2 + 1), 0);
  const pixels = crops.reduce((a, [n, s]) => a + n * s * s * 3, 0);
  const trainable = vit.depth - config.freezeBlocks;
  const kept = keptActivationBytes(vit, cropShapes, config.freezeBlocks);
  // all blocks' intermediates when they are kept, else one block's (recomputed), with their gradients
  const blocks = 2 * (kept <= KEEP_ACTIVATIONS_BYTES ? kept : (1.5 * kept) / Math.max(1, trainable));
  const rows = (2 + config.nLocal) * mb;
  const headFloats = rows * (4 * head.hiddenDim + 4 * head.bottleneckDim + 5 * head.outDim);
  const floats = 6 * params + 2 * pixels + 2 * tokens * vit.patchSize ** 2 * 3 + tokens * vit.embedDim * (vit.depth + 2) + headFloats;
  return 2 * (4 * floats + blocks) + BACKEND_OVERHEAD;
}

/** The memory a step may use on this adapter: DINO_GPU_MEMORY_GB, else the adapter's largest buffer. */
export function gpuMemoryBudget(maxBufferSize: number, env: Record<string, string | undefined>): number {
  const gb = Number(env.DINO_GPU_MEMORY_GB);
  return Number.isFinite(gb) && gb > 0 ? gb * 2 ** 30 : maxBufferSize;
}

/**
 * The config with the fewest micro-batches (accumSteps, a divisor of batchSize) whose step fits in
 * `budgetBytes`; at most batchSize micro-batches of one photo when nothing smaller fits.
 */
export function sizedForGpu(config: DinoConfig, budgetBytes: number): DinoConfig {
  for (let n = 1; n <= config.batchSize; n++) {
    if (config.batchSize % n !== 0) continue;
    const c = { ...config, accumSteps: n };
    if (gpuStepBytes(c) <= budgetBytes) return c;
  }
  return { ...config, accumSteps: config.batchSize };
}
