/**
 * What went wrong on the GPU, kept so that the next read can say it. WebGPU reports an out-of-memory
 * buffer or a lost device out of band (an `uncapturederror` event, the `device.lost` promise): the
 * failed buffer just stays invalid, and reads after it return garbage or reject with a vague message.
 * Every read in training and embedding therefore goes through `readValues`, which turns the first
 * recorded failure into an error that says what to change. No Node, no tfjs backend imports: the
 * Electron GPU window (a browser page) uses it as it is.
 */
import type * as tf from '@tensorflow/tfjs-core';

export type GpuFailureKind = 'out-of-memory' | 'device-lost' | 'internal' | 'validation';

export class GpuError extends Error {
  constructor(
    readonly kind: GpuFailureKind,
    message: string,
  ) {
    super(message);
    this.name = 'GpuError';
  }
}

let failure: GpuError | null = null;

/** The first GPU failure since the device started, or null. */
export function gpuFailure(): GpuError | null {
  return failure;
}

/** What a user can change when the GPU runs out of memory, and that nothing is lost. */
export const OUT_OF_MEMORY_ADVICE =
  'Lower the memory a step needs: raise accumSteps (the batch runs as that many smaller micro-batches, same result), ' +
  'lower batchSize, or pick a smaller preset. The last checkpoint is kept: resume the run to continue from it.';

/** Records a failure (the first one wins: later errors are usually its consequences). */
export function recordGpuFailure(kind: GpuFailureKind, detail: string): void {
  if (failure) return;
  const text =
    kind === 'out-of-memory'
      ? `The GPU ran out of memory (${detail}). ${OUT_OF_MEMORY_ADVICE}`
      : kind === 'device-lost'
        ? `The GPU device was lost (${detail}): the driver was reset or the GPU was removed. The last checkpoint is kept: resume the run to continue from it.`
        : `The GPU reported an ${kind} error (${detail}). The last checkpoint is kept.`;
  failure = new GpuError(kind, text);
}

/** A new device starts with a clean record. */
export function clearGpuFailure(): void {
  failure = null;
}

interface ErrorLike {
  constructor?: { name?: string };
  message?: string;
}

/**
 * The failure kind of a WebGPU error object (GPUOutOfMemoryError, GPUValidationError, GPUInternalError).
 * A buffer over the adapter's size limits is a validation error, but what it asks of a user is what
 * running out of memory asks: smaller batches.
 */
export function failureKind(error: ErrorLike): GpuFailureKind {
  const name = error.constructor?.name ?? '';
  const message = error.message ?? '';
  if (/OutOfMemory/i.test(name) || /out of memory|exceeds the max\w* (buffer|binding|storage)/i.test(message)) return 'out-of-memory';
  if (/Internal/i.test(name)) return 'internal';
  return 'validation';
}

/** The structural part of GPUDevice this watch needs (Dawn's Node object and a browser's). */
export interface WatchedDevice {
  lost: Promise<{ reason?: string; message?: string }>;
  addEventListener(type: 'uncapturederror', listener: (ev: { error: ErrorLike }) => void): void;
}

let closing: WatchedDevice | null = null;
let watched: WatchedDevice | null = null;

/** Records the device's out-of-band errors and its loss from now on. */
export function watchGpuDevice(device: WatchedDevice): void {
  clearGpuFailure();
  watched = device;
  device.addEventListener('uncapturederror', (ev) => recordGpuFailure(failureKind(ev.error), ev.error.message || 'no detail'));
  void device.lost.then((info) => {
    // the app's own destroy() at the end is no failure; any other loss is (a driver reset, a removed GPU)
    if (closing !== device) recordGpuFailure('device-lost', `${info.reason ?? 'unknown'}: ${info.message || 'no detail'}`);
  });
}

/** Marks the device as being destroyed by the app: its loss is expected. */
export function expectDeviceLoss(device: WatchedDevice): void {
  closing = device;
}

/** Throws the recorded GPU failure, if any. */
export function throwIfGpuFailed(): void {
  if (failure) throw failure;
}

/**
 * A tensor's values, read asynchronously (a GPU backend stalls on dataSync, and in Node the webgpu
 * backend cannot read synchronously at all). A read that rejects, or returns after a GPU failure,
 * throws the failure instead: the values may be garbage.
 */
export async function readValues(t: tf.Tensor): Promise<Float32Array> {
  let data: tf.TypedArray;
  try {
    data = await t.data<'float32'>();
  } catch (e) {
    // a read fails first when the device is lost: give the loss a moment to be reported, to say so
    if (!failure && watched) await Promise.race([watched.lost, new Promise((r) => setTimeout(r, 200))]);
    throw failure ?? e;
  }
  throwIfGpuFailed();
  return data as Float32Array;
}
