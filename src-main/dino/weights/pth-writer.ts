// Writes a checkpoint that torch.load reads (also with weights_only=True): the torch.save zip
// layout (<archive>/data.pkl, <archive>/data/<n>, byteorder, version) holding a protocol-2 pickle
// of (nested) dicts whose tensors are float32 storages rebuilt by torch._utils._rebuild_tensor_v2.
// Entries are stored uncompressed and 64-byte aligned, as torch.save does, so torch can map them.

import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { numel, type HostTensor } from './tensor-map';

/** What the writer can pickle: dicts (a Map becomes an OrderedDict), tensors, and plain values. */
export type PthValue = HostTensor | Map<string, PthValue> | PthValue[] | string | number | boolean | null;

function isTensor(v: PthValue): v is HostTensor {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Map) && (v as HostTensor).data instanceof Float32Array;
}

class PickleWriter {
  private chunks: Buffer[] = [];
  readonly storages: Float32Array[] = [];

  op(...bytes: number[]) {
    this.chunks.push(Buffer.from(bytes));
  }
  str(s: string) {
    const b = Buffer.from(s, 'utf8');
    const h = Buffer.alloc(5);
    h[0] = 0x58; // BINUNICODE
    h.writeUInt32LE(b.length, 1);
    this.chunks.push(h, b);
  }
  global(module: string, name: string) {
    this.chunks.push(Buffer.from(`c${module}\n${name}\n`, 'latin1'));
  }
  int(n: number) {
    if (Number.isInteger(n) && n >= 0 && n < 256) this.op(0x4b, n); // BININT1
    else if (Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31) {
      const b = Buffer.alloc(5);
      b[0] = 0x4a; // BININT
      b.writeInt32LE(n, 1);
      this.chunks.push(b);
    } else if (Number.isInteger(n) && Number.isSafeInteger(n)) {
      const b = Buffer.alloc(10);
      b[0] = 0x8a; // LONG1, 8 bytes two's complement
      b[1] = 8;
      b.writeBigInt64LE(BigInt(n), 2);
      this.chunks.push(b);
    } else this.float(n);
  }
  float(x: number) {
    const b = Buffer.alloc(9);
    b[0] = 0x47; // BINFLOAT, big-endian
    b.writeDoubleBE(x, 1);
    this.chunks.push(b);
  }
  tuple(items: (() => void)[]) {
    if (items.length === 0) return this.op(0x29); // EMPTY_TUPLE
    this.op(0x28); // MARK
    for (const f of items) f();
    this.op(0x74); // TUPLE
  }
  tensor(t: HostTensor) {
    if (t.data.length !== numel(t.shape)) throw new Error(`tensor of shape [${t.shape}] has ${t.data.length} values`);
    const key = String(this.storages.length);
    this.storages.push(t.data);
    const stride: number[] = [];
    for (let i = t.shape.length - 1, s = 1; i >= 0; i--) {
      stride[i] = s;
      s *= t.shape[i]!;
    }
    this.global('torch._utils', '_rebuild_tensor_v2');
    this.op(0x28); // MARK: (storage, offset, size, stride, requires_grad, backward_hooks)
    this.tuple([() => this.str('storage'), () => this.global('torch', 'FloatStorage'), () => this.str(key), () => this.str('cpu'), () => this.int(t.data.length)]);
    this.op(0x51); // BINPERSID
    this.int(0);
    this.tuple(t.shape.map((d) => () => this.int(d)));
    this.tuple(stride.map((d) => () => this.int(d)));
    this.op(0x89); // False
    this.global('collections', 'OrderedDict');
    this.op(0x29, 0x52); // () REDUCE
    this.op(0x74, 0x52); // TUPLE REDUCE
  }
  value(v: PthValue) {
    if (v === null) this.op(0x4e);
    else if (v === true) this.op(0x88);
    else if (v === false) this.op(0x89);
    else if (typeof v === 'number') {
      if (Number.isInteger(v)) this.int(v);
      else this.float(v);
    }
    else if (typeof v === 'string') this.str(v);
    else if (v instanceof Map) {
      this.global('collections', 'OrderedDict');
      this.op(0x29, 0x52); // OrderedDict()
      if (v.size) {
        this.op(0x28);
        for (const [k, x] of v) {
          this.str(k);
          this.value(x);
        }
        this.op(0x75); // SETITEMS
      }
    } else if (Array.isArray(v)) this.tuple(v.map((x) => () => this.value(x)));
    else if (isTensor(v)) this.tensor(v);
    else throw new Error('unsupported value in a .pth export');
  }
  bytes(root: PthValue): Buffer {
    this.op(0x80, 2); // PROTO 2
    this.value(root);
    this.op(0x2e); // STOP
    return Buffer.concat(this.chunks);
  }
}

interface Entry {
  name: string;
  data: Uint8Array;
}

/** A stored (uncompressed) zip with each entry's data 64-byte aligned through padding in the extra field. */
function zipStored(entries: Entry[], write: (b: Uint8Array) => void): void {
  let offset = 0;
  const central: Buffer[] = [];
  const emit = (b: Uint8Array) => {
    write(b);
    offset += b.length;
  };
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const crc = crc32(e.data);
    if (e.data.length >= 0xffffffff) throw new Error(`${e.name}: entries of 4 GiB and more are not supported`);
    const headerOffset = offset;
    const base = offset + 30 + name.length + 4;
    const pad = (64 - (base % 64)) % 64;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0, 6); // flags
    local.writeUInt16LE(0, 8); // stored
    local.writeUInt32LE(0, 10); // time/date
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(e.data.length, 18);
    local.writeUInt32LE(e.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(4 + pad, 28);
    const extra = Buffer.alloc(4 + pad);
    extra.writeUInt16LE(0x4746, 0); // 'FG', the padding record torch writes
    extra.writeUInt16LE(pad, 2);
    emit(local);
    emit(name);
    emit(extra);
    emit(e.data);
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(20, 4);
    c.writeUInt16LE(20, 6);
    c.writeUInt32LE(crc, 16);
    c.writeUInt32LE(e.data.length, 20);
    c.writeUInt32LE(e.data.length, 24);
    c.writeUInt16LE(name.length, 28);
    c.writeUInt32LE(headerOffset, 42);
    central.push(c, name);
  }
  const cdStart = offset;
  for (const c of central) emit(c);
  if (offset >= 0xffffffff) throw new Error('.pth exports of 4 GiB and more are not supported');
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(offset - cdStart, 12);
  end.writeUInt32LE(cdStart, 16);
  emit(end);
}

/**
 * Writes `root` (usually a Map of name -> tensor, i.e. a state dict) as a torch.save file.
 * Atomic: written beside the target, flushed, renamed over it.
 */
export function writePth(path: string, root: PthValue, archiveName = 'archive'): void {
  const pw = new PickleWriter();
  const pkl = pw.bytes(root);
  const entries: Entry[] = [{ name: `${archiveName}/data.pkl`, data: pkl }, { name: `${archiveName}/byteorder`, data: Buffer.from('little') }];
  pw.storages.forEach((s, i) => entries.push({ name: `${archiveName}/data/${i}`, data: new Uint8Array(s.buffer, s.byteOffset, s.byteLength) }));
  entries.push({ name: `${archiveName}/version`, data: Buffer.from('3\n') });
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    zipStored(entries, (b) => {
      let done = 0;
      while (done < b.length) done += writeSync(fd, b, done, b.length - done);
    });
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, path);
  } catch (err) {
    try {
      closeSync(fd);
    } catch {
      /* already closed */
    }
    try {
      unlinkSync(tmp);
    } catch {
      /* nothing to remove */
    }
    throw err;
  }
}
