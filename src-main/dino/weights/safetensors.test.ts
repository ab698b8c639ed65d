import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors, readSafetensors, writeSafetensors, type NamedArray } from './safetensors';

function handmade(dtype: string, shape: number[], bytes: number[]): Uint8Array {
  const h = Buffer.from(JSON.stringify({ x: { dtype, shape, data_offsets: [0, bytes.length] } }));
  const out = new Uint8Array(8 + h.length + bytes.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(bytes, 8 + h.length);
  return out;
}

describe('safetensors', () => {
  it('round-trips F32 tensors and string metadata', () => {
    const t = new Map<string, NamedArray>([
      ['a.weight', { shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 0, 1e-20, -7]) }],
      ['b', { shape: [], data: Float32Array.from([42]) }],
    ]);
    const bytes = encodeSafetensors(t, { format: 'x/1', config: '{"a":1}' });
    const hlen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + hlen) % 8).toBe(0);
    const back = decodeSafetensors(bytes);
    expect(back.metadata).toEqual({ format: 'x/1', config: '{"a":1}' });
    expect(back.tensors.get('a.weight')!.shape).toEqual([2, 3]);
    expect([...back.tensors.get('a.weight')!.data]).toEqual([...t.get('a.weight')!.data]);
    expect([...back.tensors.get('b')!.data]).toEqual([42]);
  });

  it('reads F16 and BF16 as F32', () => {
    // F16: 1.0 = 0x3c00, -2.0 = 0xc000, 65504 = 0x7bff; BF16: 1.0 = 0x3f80, -0.5 = 0xbf00
    const f16 = decodeSafetensors(handmade('F16', [3], [0x00, 0x3c, 0x00, 0xc0, 0xff, 0x7b]));
    expect([...f16.tensors.get('x')!.data]).toEqual([1, -2, 65504]);
    const bf16 = decodeSafetensors(handmade('BF16', [2], [0x80, 0x3f, 0x00, 0xbf]));
    expect([...bf16.tensors.get('x')!.data]).toEqual([1, -0.5]);
  });

  it('refuses bad files', () => {
    expect(() => decodeSafetensors(handmade('I64', [1], [0, 0, 0, 0, 0, 0, 0, 0]))).toThrow(/unsupported dtype/);
    expect(() => decodeSafetensors(handmade('F32', [2], [0, 0, 0, 0]))).toThrow();
    expect(() => decodeSafetensors(new Uint8Array(4))).toThrow(/too short/);
  });

  it('writes atomically (no temporary file left behind)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'st-'));
    try {
      const p = join(dir, 'c.safetensors');
      writeSafetensors(p, new Map([['w', { shape: [1], data: Float32Array.from([3]) }]]));
      writeSafetensors(p, new Map([['w', { shape: [1], data: Float32Array.from([4]) }]]));
      expect(readdirSync(dir)).toEqual(['c.safetensors']);
      expect(existsSync(p)).toBe(true);
      expect([...readSafetensors(p).tensors.get('w')!.data]).toEqual([4]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
