/**
 * The webgpu backend (Dawn in Node; SwiftShader on a machine without a GPU: correctness only, it is
 * far slower than wasm): selection names the adapter; crops uploaded as bytes are normalised on the GPU
 * as the CPU path does; a tiny 3-step run gives wasm's losses within 1e-4 and leaks neither tensors
 * nor GPU memory, nor does embedding; a lost device and an out-of-memory error stop training with a
 * message that says what to do, the last checkpoint kept, and the run resumes from it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useSoftwareGpu } from '../testing/webgpu-test-setup';
import { initBackend, releaseWebgpu, type BackendInfo } from './runtime/node/backend';
import { embedImages } from './embed';
import { OUT_OF_MEMORY_ADVICE } from './runtime/gpu-errors';
import { BACKEND_OVERHEAD, gpuStepBytes } from './train/gpu-memory';
import { imageBatch } from './runtime/image-batch';
import { netConfigs } from './train/net-configs';
import { createNet, loadParams } from './model/net';
import { getPreset, withOverrides } from './train/presets';
import { Rng } from './rng';
import { readNamed } from './named-arrays';
import { decodeSafetensors, encodeSafetensors, type SafetensorsContent } from './weights/safetensors';
import { trainDino, type SourceImage } from './train/trainer';
import type { StepMetrics } from './train/step-metrics';

const missing = useSoftwareGpu();

function photos(n: number): SourceImage[] {
  const r = new Rng(7);
  return Array.from({ length: n }, (_, id) => {
    const w = 40;
    const h = 36;
    const rgb = new Uint8Array(w * h * 3);
    const split = r.int(8, 32);
    const c = [r.int(0, 256), r.int(0, 256), r.int(0, 256), r.int(0, 256), r.int(0, 256), r.int(0, 256)];
    for (let i = 0; i < w * h; i++) for (let k = 0; k < 3; k++) rgb[i * 3 + k] = Math.min(255, c[(i % w < split ? 0 : 3) + k]! + r.int(0, 30));
    return { id, rgb, width: w, height: h };
  });
}

// small enough for SwiftShader: one block of width 32, 16 px crops of 8 px patches, K 128
const tiny = withOverrides(getPreset('cpu-patch8').config, {
  depth: 1,
  embedDim: 32,
  imgSize: 16,
  globalSize: 16,
  localSize: 8,
  nLocal: 2,
  outDim: 128,
  hiddenDim: 64,
  bottleneckDim: 32,
  batchSize: 4,
  freezeLastLayer: 0,
});
const data = photos(16);
function source(epoch: number, skip: number): AsyncIterable<SourceImage> {
  return (async function* () {
    const order = new Rng(100 + epoch).permutation(data.length);
    for (let i = skip; i < order.length; i++) yield data[order[i]!]!;
  })();
}

const gpuBytes = (): number => (tf.memory() as tf.MemoryInfo & { numBytesInGPU: number }).numBytesInGPU;
/** the buffer pool's size: tfjs-backend-webgpu keeps every buffer it made, so this is its peak */
const poolBytes = (): number => (tf.memory() as tf.MemoryInfo & { numBytesAllocatedInGPU: number }).numBytesAllocatedInGPU;
const device = (): GPUDevice => (tf.backend() as unknown as { device: GPUDevice }).device;

describe.skipIf(missing !== null)(`webgpu backend${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let info: BackendInfo;
  const wasmLosses: number[] = [];

  beforeAll(async () => {
    await initBackend('wasm');
    const r = await trainDino(tiny, source, { onStep: (m) => void wasmLosses.push(m.loss) }, { numImages: data.length, maxSteps: 3 });
    r.dispose();
    info = await initBackend('webgpu');
  });
  afterAll(() => releaseWebgpu());

  it('is selected by name and says which adapter it runs on', () => {
    expect(info.name).toBe('webgpu');
    expect(tf.getBackend()).toBe('webgpu');
    expect(info.description).toMatch(/^webgpu \(.+, Dawn (Vulkan|Metal|D3D12)/);
    expect(info.adapter!.maxBufferSize).toBeGreaterThan(2 ** 26);
    if (/swiftshader/i.test(info.description)) {
      expect(info.adapter!.software).toBe(true);
      expect(info.gpu).toBe(false);
    }
  });

  it('normalises byte crops on the GPU as the CPU path does', async () => {
    const bytes = new Uint8Array(2 * 6 * 6 * 3);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 37) % 256;
    const before = tf.memory().numTensors;
    const gpu = imageBatch(bytes, [2, 6, 6, 3]);
    // 5 x 5 x 3 values are not a whole number of words: the CPU path
    const odd = imageBatch(bytes, [1, 5, 5, 3]);
    const ours = (await gpu.data()) as Float32Array;
    const oddValues = (await odd.data()) as Float32Array;
    tf.dispose([gpu, odd]);
    expect(tf.memory().numTensors).toBe(before);
    const mean = [0.485, 0.456, 0.406];
    const std = [0.229, 0.224, 0.225];
    let worst = 0;
    for (let i = 0; i < bytes.length; i++) worst = Math.max(worst, Math.abs(ours[i]! - (bytes[i]! / 255 - mean[i % 3]!) / std[i % 3]!));
    expect(worst).toBeLessThan(1e-6);
    for (let i = 0; i < 75; i++) expect(oddValues[i]).toBeCloseTo((bytes[i]! / 255 - mean[i % 3]!) / std[i % 3]!, 5);
  });

  it("trains 3 steps with wasm's losses (within 1e-4), its tensor count and GPU memory flat, within the memory estimate", async () => {
    const before = { tensors: tf.memory().numTensors, bytes: gpuBytes(), pool: poolBytes() };
    const metrics: StepMetrics[] = [];
    const counts: number[] = [];
    const bytes: number[] = [];
    const r = await trainDino(
      tiny,
      source,
      {
        onStep: (m) => {
          metrics.push(m);
          counts.push(tf.memory().numTensors);
          bytes.push(gpuBytes());
        },
      },
      { numImages: data.length, maxSteps: 4 },
    );
    r.dispose();
    const losses = metrics.map((m) => m.loss);
    console.log(`losses webgpu ${losses.map((l) => l.toFixed(6)).join(' ')}, wasm ${wasmLosses.map((l) => l.toFixed(6)).join(' ')}`);
    for (let i = 0; i < 3; i++) expect(Math.abs(losses[i]! - wasmLosses[i]!)).toBeLessThan(1e-4);
    // reported one step behind: while steps 2 and 3 are reported, the next step is in flight
    expect(counts[2]).toBe(counts[1]);
    expect(bytes[2]).toBe(bytes[1]);
    // the interpolation matrix of the local crops' position embedding is a kept, cached constant
    expect(tf.memory().numTensors).toBeLessThanOrEqual(before.tensors + 1);
    expect(gpuBytes() - before.bytes).toBeLessThanOrEqual(1024);
    // what the GPU presets are sized by (train/gpu-memory.ts) holds what the steps took, even without its
    // allowance for the backend's own buffers
    const estimate = gpuStepBytes(tiny) - BACKEND_OVERHEAD;
    console.log(`GPU buffer pool grew by ${((poolBytes() - before.pool) / 2 ** 20).toFixed(2)} MB; estimate ${(estimate / 2 ** 20).toFixed(2)} MB + ${BACKEND_OVERHEAD / 2 ** 20} MB`);
    expect(poolBytes() - before.pool).toBeLessThanOrEqual(estimate);
  });

  it('embeds a batch with the numbers of wasm, leaving no tensor or GPU memory behind', async () => {
    const { teacher } = netConfigs(tiny);
    const net = createNet(teacher, new Rng(3));
    const images = data.slice(0, 5);
    await embedImages(net, images.slice(0, 1), { batchSize: 1 }); // kernels and the interpolation cache
    const before = { tensors: tf.memory().numTensors, bytes: gpuBytes() };
    const ours = await embedImages(net, images, { batchSize: 2 });
    expect({ tensors: tf.memory().numTensors, bytes: gpuBytes() }).toEqual(before);
    const weights = await readNamed(net.params);
    for (const v of net.params.values()) v.dispose();
    // the same weights on wasm
    await initBackend('wasm');
    const cpuNet = createNet(teacher, new Rng(0));
    loadParams(cpuNet, weights);
    const ref = await embedImages(cpuNet, images, { batchSize: 2 });
    for (const v of cpuNet.params.values()) v.dispose();
    await initBackend('webgpu');
    for (let i = 0; i < images.length; i++) for (let j = 0; j < ours[i]!.length; j++) expect(Math.abs(ours[i]![j]! - ref[i]![j]!)).toBeLessThan(1e-5);
  });

  /** Trains until `fail` breaks the GPU at step 2; returns the error and the last checkpoint saved. */
  async function failAtStep2(fail: () => void): Promise<{ error: Error; saved: SafetensorsContent[] }> {
    const saved: SafetensorsContent[] = [];
    let error: Error | null = null;
    try {
      await trainDino(
        tiny,
        source,
        {
          onStep: (m) => void (m.step === 2 && fail()),
          checkpoint: (ck) => void saved.push(decodeSafetensors(encodeSafetensors(ck.tensors, ck.metadata))),
        },
        { numImages: data.length, maxSteps: 6, checkpointEveryMs: 0 },
      );
    } catch (e) {
      error = e as Error;
    }
    expect(error).not.toBeNull();
    return { error: error!, saved };
  }

  it('stops on a lost device with a plain message, keeps the last checkpoint, and resumes from it', async () => {
    const { error, saved } = await failAtStep2(() => device().destroy());
    expect(error.message).toMatch(/GPU device was lost.*resume the run/);
    // one checkpoint, taken when step 1 was reported (it holds step 2, queued before the read);
    // none after the loss
    expect(saved).toHaveLength(1);
    // a new device, as a resumed job gets in a new worker
    await releaseWebgpu();
    await initBackend('webgpu');
    const losses: number[] = [];
    const r = await trainDino(tiny, source, { onStep: (m) => void losses.push(m.loss) }, { numImages: data.length, maxSteps: 1, resume: saved[0]! });
    expect(r.it).toBe(3);
    r.dispose();
    expect(Math.abs(losses[0]! - wasmLosses[2]!)).toBeLessThan(1e-4);
  });

  it('stops on an out-of-memory error and says what to change', async () => {
    const { error, saved } = await failAtStep2(() => {
      const g = globalThis as unknown as { GPUOutOfMemoryError: new (m: string) => GPUError; GPUUncapturedErrorEvent: new (t: string, i: { error: GPUError }) => Event };
      device().dispatchEvent(new g.GPUUncapturedErrorEvent('uncapturederror', { error: new g.GPUOutOfMemoryError('a 3 GiB buffer') }));
    });
    expect(error.message).toContain('The GPU ran out of memory (a 3 GiB buffer)');
    expect(error.message).toContain(OUT_OF_MEMORY_ADVICE);
    expect(saved).toHaveLength(1);
    await releaseWebgpu();
    await initBackend('webgpu');
  });
});
