/**
 * A small .safetensors reader/writer: 8-byte little-endian header length, a JSON header
 * ({name: {dtype, shape, data_offsets}, __metadata__?: {string: string}}), then raw little-endian bytes.
 * Writes F32 only; reads F32, F16 and BF16 (converted to F32).
 */
import { readFileSync, renameSync, writeFileSync, openSync, fsyncSync, closeSync } from 'node:fs';

import type { NamedArray, SafetensorsContent } from '../named-arrays';
import { bf16ToFloat32, halfToFloat32 } from './tensor-map';

export type { NamedArray, SafetensorsContent } from '../named-arrays';

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

export function encodeSafetensors(tensors: Map<string, NamedArray>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, HeaderEntry | Record<string, string>> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  const names = [...tensors.keys()];
  for (const name of names) {
    const t = tensors.get(name)!;
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new Error(`safetensors: ${name} has ${t.data.length} values for shape [${t.shape}]`);
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + n * 4] };
    offset += n * 4;
  }
  let json = JSON.stringify(header);
  // pad the header with spaces so the data starts 8-byte aligned (as the reference writer does)
  while ((8 + Buffer.byteLength(json)) % 8 !== 0) json += ' ';
  const hbytes = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + hbytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(hbytes.length), true);
  out.set(hbytes, 8);
  const base = 8 + hbytes.length;
  for (const name of names) {
    const t = tensors.get(name)!;
    const e = header[name] as HeaderEntry;
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), base + e.data_offsets[0]);
  }
  return out;
}

export function decodeSafetensors(bytes: Uint8Array): SafetensorsContent {
  if (bytes.length < 8) throw new Error('safetensors: file too short');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = Number(view.getBigUint64(0, true));
  if (8 + hlen > bytes.length) throw new Error('safetensors: header length past end of file');
  const header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + hlen)).toString('utf8')) as Record<string, unknown>;
  const base = 8 + hlen;
  const tensors = new Map<string, NamedArray>();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = raw as Record<string, string>;
      continue;
    }
    const e = raw as HeaderEntry;
    const n = e.shape.reduce((a, b) => a * b, 1);
    const [b0, b1] = e.data_offsets;
    if (base + b1 > bytes.length || b1 < b0) throw new Error(`safetensors: ${name} data out of range`);
    const src = bytes.subarray(base + b0, base + b1);
    const width = e.dtype === 'F32' ? 4 : e.dtype === 'F16' || e.dtype === 'BF16' ? 2 : 0;
    if (!width) throw new Error(`safetensors: ${name} has unsupported dtype ${e.dtype}`);
    if (src.length !== n * width) throw new Error(`safetensors: ${name} byte size does not match its shape`);
    // a copy (a Buffer's slice() is a view): the bytes need not be aligned; hosts are little-endian
    const copy = new Uint8Array(src);
    const halves = () => new Uint16Array(copy.buffer);
    const data = e.dtype === 'F32' ? new Float32Array(copy.buffer) : e.dtype === 'F16' ? halfToFloat32(halves()) : bf16ToFloat32(halves());
    tensors.set(name, { shape: e.shape, data });
  }
  return { tensors, metadata };
}

export function readSafetensors(path: string): SafetensorsContent {
  return decodeSafetensors(readFileSync(path));
}

/** Writes atomically: a temporary file beside the target, flushed, then renamed over it. */
export function writeSafetensors(path: string, tensors: Map<string, NamedArray>, metadata: Record<string, string> = {}): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, encodeSafetensors(tensors, metadata));
  const fd = openSync(tmp, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}
