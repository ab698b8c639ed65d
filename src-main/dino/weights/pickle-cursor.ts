// Reads the pickle's byte stream: fixed-width little-endian integers, length-prefixed runs and
// newline-terminated text (protocol 0). Every read past the end, and every failure the VM reports,
// names the file and the offset reached.

import { WeightsFormatError } from './tensor-map';

export class PickleCursor {
  private readonly view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    /** names the file in errors */
    readonly label: string,
    public pos: number,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  fail(msg: string): never {
    throw new WeightsFormatError(`${this.label}: ${msg} (pickle offset ${this.pos})`);
  }

  need(n: number): void {
    if (this.pos + n > this.bytes.length) this.fail('the pickle is truncated');
  }

  u8(): number {
    this.need(1);
    return this.bytes[this.pos++]!;
  }

  u16(): number {
    this.need(2);
    this.pos += 2;
    return this.view.getUint16(this.pos - 2, true);
  }

  u32(): number {
    this.need(4);
    this.pos += 4;
    return this.view.getUint32(this.pos - 4, true);
  }

  i32(): number {
    this.need(4);
    this.pos += 4;
    return this.view.getInt32(this.pos - 4, true);
  }

  /** A 64-bit length: refused beyond 2^53, which no real pickle reaches. */
  u64(): number {
    this.need(8);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail('length too large');
    return Number(v);
  }

  /** BINFLOAT's double is the one big-endian number in the format. */
  f64be(): number {
    this.need(8);
    const v = this.view.getFloat64(this.pos, false);
    this.pos += 8;
    return v;
  }

  /** The next n bytes, as a view (no copy). */
  take(n: number): Uint8Array {
    this.need(n);
    this.pos += n;
    return this.bytes.subarray(this.pos - n, this.pos);
  }

  /** Text up to the next newline (consumed, not returned), as latin-1. */
  line(): string {
    const end = this.bytes.indexOf(0x0a, this.pos);
    if (end < 0) this.fail('the pickle is truncated');
    const s = Buffer.from(this.bytes.subarray(this.pos, end)).toString('latin1');
    this.pos = end + 1;
    return s;
  }
}
