// The one in-memory form of weights that every reader produces and every writer takes:
// float32 data in row-major (C-contiguous) order with the PyTorch shape, keyed by parameter name.
// No tfjs here: file formats are plain data, and the ViT turns these into variables itself.

export interface HostTensor {
  shape: number[];
  data: Float32Array;
}

export type TensorMap = Map<string, HostTensor>;

/** Element count of a shape (1 for a scalar []). */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Error thrown for any file the weights code cannot or will not read; the message is for the user. */
export class WeightsFormatError extends Error {
  override name = 'WeightsFormatError';
}

/**
 * A name read from a file (a Python global, a zip entry, a tensor key), fit to quote in a message:
 * printable ASCII only and short, so a crafted file cannot fill a terminal or a dialog, or drive one
 * with control sequences.
 */
export function shown(text: string, max = 80): string {
  const clean = text.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > max ? `${clean.slice(0, max)}...` : clean;
}

/** Decodes IEEE half floats (binary16) to float32. */
export function halfToFloat32(src: Uint16Array): Float32Array {
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const h = src[i]!;
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) out[i] = sign * frac * 2 ** -24; // zero and subnormals
    else if (exp === 31) out[i] = frac ? NaN : sign * Infinity;
    else out[i] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return out;
}

/** Decodes bfloat16 (the top 16 bits of a float32) to float32. */
export function bf16ToFloat32(src: Uint16Array): Float32Array {
  const bits = new Uint32Array(src.length);
  for (let i = 0; i < src.length; i++) bits[i] = src[i]! << 16;
  return new Float32Array(bits.buffer);
}

/** Short description of a map's keys for error messages: "320 tensors like conv1.weight, layer1.0.conv1.weight". */
export function describeKeys(keys: readonly string[], count = 3): string {
  const like = keys.slice(0, count).map((k) => shown(k, 60)).join(', ');
  return `${keys.length} tensor${keys.length === 1 ? '' : 's'}${keys.length ? ` like ${like}${keys.length > count ? ', ...' : ''}` : ''}`;
}
