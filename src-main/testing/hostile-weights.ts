// Builds hostile weights files for the hostile-input tests (never imported by the app): pickles that
// name the same object over and over, tuple-key bombs, copy bombs, oversized literals, tensor views
// that repeat one element, a ViT claiming a billion blocks, zip bombs, and global/reduce tricks. Each
// is made from opcodes here, so the tests need no file from outside and can grow them at will.

import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { crc32, createDeflateRaw } from 'node:zlib';

/** A pickle written opcode by opcode (protocol 2 plus the protocol-4 short string). */
export class PickleOps {
  private readonly bytes: number[] = [];
  private memoSize = 0;

  constructor() {
    this.op(0x80, 2);
  }

  op(...b: number[]): this {
    for (const x of b) this.bytes.push(x);
    return this;
  }
  raw(b: Uint8Array): this {
    for (const x of b) this.bytes.push(x);
    return this;
  }
  str(s: string): this {
    const b = Buffer.from(s, 'utf8');
    return b.length < 256 ? this.op(0x8c, b.length).raw(b) : this.op(0x58, ...u32(b.length)).raw(b);
  }
  int(n: number): this {
    return n >= 0 && n < 256 ? this.op(0x4b, n) : this.op(0x4a, ...i32(n));
  }
  global(module: string, name: string): this {
    return this.raw(Buffer.from(`c${module}\n${name}\n`, 'latin1'));
  }
  /** memoizes the top of the stack; returns its memo index */
  put(): number {
    const i = this.memoSize++;
    if (i < 256) this.op(0x71, i);
    else this.op(0x72, ...u32(i));
    return i;
  }
  get(i: number): this {
    return i < 256 ? this.op(0x68, i) : this.op(0x6a, ...u32(i));
  }
  mark(): this {
    return this.op(0x28);
  }
  /** a tensor record: _rebuild_tensor_v2(persistent storage, offset, shape, stride, False, OrderedDict()) */
  tensor(storageKey: string, storageNumel: number, shape: number[], stride = contiguous(shape), offset = 0): this {
    this.global('torch._utils', '_rebuild_tensor_v2').mark();
    this.mark().str('storage').global('torch', 'FloatStorage').str(storageKey).str('cpu').int(storageNumel).op(0x74, 0x51);
    this.int(offset);
    this.mark();
    for (const d of shape) this.int(d);
    this.op(0x74).mark();
    for (const s of stride) this.int(s);
    this.op(0x74, 0x89);
    this.global('collections', 'OrderedDict').op(0x29, 0x52);
    return this.op(0x74, 0x52);
  }
  end(): Buffer {
    return Buffer.from([...this.bytes, 0x2e]);
  }
  get length(): number {
    return this.bytes.length;
  }
}

function u32(n: number): number[] {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return [...b];
}
function i32(n: number): number[] {
  const b = Buffer.alloc(4);
  b.writeInt32LE(n);
  return [...b];
}
function contiguous(shape: number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1]! * shape[i + 1]!;
  return s;
}

/**
 * The tensors of a complete DINO ViT of this width and depth (MLP 8 wide, patch 2, one patch
 * position): a file holding them passes every check of the reader, so a bomb placed in it is
 * reached by every stage. The default is tiny: all its tensors fit views of 64 elements.
 */
export function vitShapes(width = 4, depth = 1): [string, number[]][] {
  const d = width;
  const out: [string, number[]][] = [
    ['cls_token', [1, 1, d]], ['pos_embed', [1, 2, d]], ['patch_embed.proj.weight', [d, 3, 2, 2]], ['patch_embed.proj.bias', [d]],
    ['norm.weight', [d]], ['norm.bias', [d]],
  ];
  for (let i = 0; i < depth; i++) {
    const b = `blocks.${i}.`;
    out.push(
      [`${b}norm1.weight`, [d]], [`${b}norm1.bias`, [d]], [`${b}attn.qkv.weight`, [3 * d, d]], [`${b}attn.qkv.bias`, [3 * d]],
      [`${b}attn.proj.weight`, [d, d]], [`${b}attn.proj.bias`, [d]], [`${b}norm2.weight`, [d]], [`${b}norm2.bias`, [d]],
      [`${b}mlp.fc1.weight`, [8, d]], [`${b}mlp.fc1.bias`, [8]], [`${b}mlp.fc2.weight`, [d, 8]], [`${b}mlp.fc2.bias`, [d]],
    );
  }
  return out;
}
export const TINY_VIT_NUMEL = 64;

/** SETITEMS of a ViT's tensors (views of storage '0') into the dict on top of the stack; `record` may write one tensor instead. */
export function vitItems(p: PickleOps, opts: { width?: number; depth?: number; storageNumel?: number; record?: (name: string, shape: number[]) => boolean } = {}): PickleOps {
  p.mark();
  for (const [name, shape] of vitShapes(opts.width, opts.depth)) {
    p.str(name);
    if (!opts.record?.(name, shape)) p.tensor('0', opts.storageNumel ?? TINY_VIT_NUMEL, shape);
  }
  return p.op(0x75);
}

/**
 * `levels` containers (dicts under keys k_i, or lists), each holding `width` references to the one
 * before, the first empty; each is memoized, and the last is left on the stack. Returns its memo index.
 */
function sharedChain(p: PickleOps, kind: 'dict' | 'list', width: number, levels: number): number {
  const [empty, fill] = kind === 'dict' ? [0x7d, 0x75] : [0x5d, 0x65];
  p.op(empty);
  let inner = p.put();
  for (let l = 0; l < levels; l++) {
    p.op(0x30, empty).mark();
    for (let i = 0; i < width; i++) {
      if (kind === 'dict') p.str(`k${i}`);
      p.get(inner);
    }
    p.op(fill);
    inner = p.put();
  }
  return inner;
}

/** root = {k_i: D1 for i < width}, D1 = {k_i: D2 ...} ... `levels` deep: the state-dict search's bomb */
export function sharedDicts(width: number, levels: number): Buffer {
  const p = new PickleOps();
  sharedChain(p, 'dict', width, levels);
  return p.end();
}

/**
 * A valid tiny ViT whose training args hold L1 = [L2] * width, L2 = [L3] * width, ... `levels`
 * deep: the training-metadata walk's bomb (it follows every path).
 */
export function sharedArgs(width: number, levels: number): Buffer {
  const p = new PickleOps();
  const lists = sharedChain(p, 'list', width, levels);
  p.op(0x30);
  p.op(0x7d).mark().str('model');
  vitItems(p.op(0x7d));
  p.str('args').global('argparse', 'Namespace').op(0x29, 0x81);
  p.op(0x7d).str('lists').get(lists).op(0x73, 0x62);
  return p.op(0x75).end();
}

/** {t: 1} with t_0 = ('a',), t_i = (t_{i-1}, t_{i-1}): 2^depth leaves in a key of a few bytes per level */
export function tupleKeyBomb(depth: number): Buffer {
  const p = new PickleOps();
  p.op(0x7d).str('a').op(0x85);
  let t = p.put();
  for (let i = 0; i < depth; i++) {
    p.op(0x30).get(t).get(t).op(0x86);
    t = p.put();
  }
  return p.op(0x4b, 1, 0x73).end();
}

/** a list of `n` Nones copied `copies` times through builtins.list: quadratic for a few bytes a copy */
export function listCopyBomb(n: number, copies: number): Buffer {
  const p = new PickleOps();
  p.global('builtins', 'list');
  const list = p.put();
  p.op(0x30, 0x5d).mark();
  for (let i = 0; i < n; i++) p.op(0x4e);
  p.op(0x65);
  const items = p.put();
  p.op(0x30, 0x5d);
  for (let i = 0; i < copies; i++) p.get(list).get(items).op(0x85, 0x52, 0x30);
  return p.end();
}

/** one LONG4 integer literal of `bytes` bytes (reading it byte by byte costs the square of that) */
export function longLiteral(bytes: number): Buffer {
  const p = new PickleOps();
  p.op(0x8b, ...u32(bytes)).raw(new Uint8Array(bytes).fill(0x11));
  return p.end();
}

/**
 * A ViT of this width whose every tensor is a view of stride 0 into a one-element storage '1':
 * a few kilobytes that stand for width^2 * 4 values.
 */
export function repeatedElementViews(width: number): Buffer {
  const p = new PickleOps();
  p.op(0x7d);
  return vitItems(p, {
    width,
    record: (_n, shape) => {
      p.tensor('1', 1, shape, shape.map(() => 0));
      return true;
    },
  }).end();
}

/** a ViT of this depth (width 64) whose every tensor views all of one storage '0' of 64^2 * 3 elements */
export function oneStorageEverywhere(depth: number): Buffer {
  const p = new PickleOps();
  p.op(0x7d);
  return vitItems(p, { width: 64, depth, storageNumel: 3 * 64 * 64 }).end();
}

export interface ZipEntryData {
  name: string;
  /** bytes as stored in the archive */
  data: Uint8Array;
  /** 0 stored, 8 deflate */
  method: number;
  /** inflated size and CRC-32 as the directory will state them */
  size: number;
  crc: number;
}

export function stored(name: string, data: Uint8Array): ZipEntryData {
  return { name, data, method: 0, size: data.length, crc: crc32(data) };
}

/** A zip of the entries, their directory records stating what each says (true or not). */
export function zipOf(entries: readonly ZipEntryData[]): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const fields = (sig: number, len: number, at: number) => {
      const b = Buffer.alloc(len);
      b.writeUInt32LE(sig, 0);
      b.writeUInt16LE(e.method, at);
      b.writeUInt32LE(e.crc, at + 6);
      b.writeUInt32LE(e.data.length, at + 10);
      b.writeUInt32LE(e.size, at + 14);
      b.writeUInt16LE(name.length, at + 18);
      return b;
    };
    const local = fields(0x04034b50, 30, 8);
    const dir = fields(0x02014b50, 46, 10);
    dir.writeUInt32LE(offset, 42);
    parts.push(local, name, Buffer.from(e.data));
    central.push(dir, name);
    offset += local.length + name.length + e.data.length;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, cd, end]);
}

/** `bytes` zero bytes deflated (streamed: the test never holds them), with their CRC-32 */
export async function deflatedZeros(bytes: number): Promise<ZipEntryData & { name: '' }> {
  const z = createDeflateRaw({ level: 9 });
  const out: Buffer[] = [];
  z.on('data', (c: Buffer) => out.push(c));
  const chunk = Buffer.alloc(1 << 20);
  let crc = 0;
  for (let left = bytes; left > 0; left -= chunk.length) {
    const c = left >= chunk.length ? chunk : chunk.subarray(0, left);
    crc = crc32(c, crc);
    if (!z.write(c)) await once(z, 'drain');
  }
  z.end();
  await once(z, 'end');
  return { name: '', data: Buffer.concat(out), method: 8, size: bytes, crc };
}

/** Writes `data` to `file`; resolves when it is on disk. */
export async function writeOut(file: string, data: Uint8Array): Promise<string> {
  const s = createWriteStream(file);
  s.end(data);
  await once(s, 'close');
  return file;
}
