// Reads PyTorch checkpoints written by torch.save. The zip format (PyTorch >= 1.6): `<archive>/data.pkl`
// is a pickle of the saved object whose tensors point at raw storages `<archive>/data/<key>`;
// `<archive>/byteorder` says how those are laid out ("little" when absent). The legacy format
// (before 1.6, or _use_new_zipfile_serialization=False): pickles of a magic number, the protocol
// version and system info, then the object, then the list of storage keys, then each storage as an
// int64 element count followed by its bytes.
// Tensors stay references (storage, offset, shape, stride) until asked for, so a multi-gigabyte
// full checkpoint costs only the tensors actually used. Every value read becomes float32.

import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { ZipFile } from './zip-file';
import { UnsafePickleError, unpickle, type PyKey, type PyValue } from './pickle';
import { PickleBudget } from './pickle-budget';
import { WeightsFormatError, bf16ToFloat32, halfToFloat32, numel, shown, type HostTensor, type TensorMap } from './tensor-map';
import { ITEM_SIZE, TorchStorage, TorchTensorRef, storageRecord, torchGlobals, type TorchDtype } from './torch-globals';

/**
 * The largest data.pkl read: a ViT-B full checkpoint's is tens of kilobytes; a pickle that claims
 * more than this is not a state dict.
 */
export const MAX_PICKLE_BYTES = 32 << 20;

export interface PthFile {
  /** The unpickled object: Maps for dicts, arrays for lists/tuples, TorchTensorRef for tensors. */
  root: PyValue;
  label: string;
  /** Reads one tensor's values as float32 (row-major). */
  load(ref: TorchTensorRef): HostTensor;
  close(): void;
}

/** Opens a torch.save zip checkpoint; throws WeightsFormatError for anything else. */
export function openPth(path: string, label = path): PthFile {
  try {
    return openAnyPth(path, label);
  } catch (err) {
    // a damaged file can put lengths and offsets anywhere: whatever breaks, report it as damage
    if (err instanceof WeightsFormatError || (err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'EACCES') throw err;
    throw new WeightsFormatError(`${label}: corrupt PyTorch checkpoint (${(err as Error).message})`);
  }
}

function openAnyPth(path: string, label: string): PthFile {
  const head = Buffer.alloc(4);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, head, 0, 4, 0);
  } finally {
    closeSync(fd);
  }
  if (head[0] === 0x80 && head[2] === 0x8a && head[3] === 0x0a) return openLegacyPth(path, label);
  const zip = ZipFile.open(path, label);
  try {
    const names = [...zip.entries.keys()];
    const pkl = names.find((n) => /^[^/]+\/data\.pkl$/.test(n)) ?? names.find((n) => n === 'data.pkl');
    if (!pkl) {
      if (names.some((n) => n.endsWith('/constants.pkl') || n.includes('/code/'))) {
        throw new WeightsFormatError(`${label}: a TorchScript archive (torch.jit.save), not a state dict; save model.state_dict() with torch.save instead`);
      }
      throw new WeightsFormatError(`${label}: a zip archive but not a PyTorch checkpoint (no data.pkl; found ${names.slice(0, 3).map((n) => shown(n, 40)).join(', ') || 'no entries'})`);
    }
    const prefix = pkl.slice(0, -'data.pkl'.length);
    const bo = zip.entries.has(`${prefix}byteorder`) ? Buffer.from(zip.read(`${prefix}byteorder`, 16)).toString('ascii').trim() : 'little';
    if (bo !== 'little' && bo !== 'big') throw new WeightsFormatError(`${label}: unknown byteorder record (neither little nor big)`);
    const globals = torchGlobals();
    const storages = new Map<string, TorchStorage>();
    const persistentLoad = (pid: PyValue): PyValue => {
      const { dtype, key, numel: count } = storageRecord(pid, label);
      let s = storages.get(key);
      if (!s) {
        const entry = zip.entries.get(`${prefix}data/${key}`);
        if (!entry) throw new WeightsFormatError(`${label}: the archive lacks storage ${shown(key)} (truncated or corrupt file)`);
        if (!Number.isSafeInteger(count) || count < 0 || entry.size < count * ITEM_SIZE[dtype]) throw new WeightsFormatError(`${label}: storage ${shown(key)} is shorter than its ${count} elements`);
        s = new TorchStorage(key, dtype, count);
        storages.set(key, s);
      }
      return s;
    };
    const pklEntry = zip.entries.get(pkl)!;
    // a deflated pickle gets the work of at most 4x its compressed bytes: enough for real ones
    // (text compresses 3-5x), and a small file cannot claim a huge budget by compressing well
    const budget = new PickleBudget(label, Math.min(pklEntry.size, 4 * pklEntry.compressedSize));
    const { value } = unpickle(zip.read(pkl, MAX_PICKLE_BYTES), { globals, persistentLoad, label, budget });
    const cache = new Map<string, Uint8Array>();
    const produced = outputBound(label, storages.values());
    return {
      root: value,
      label,
      load(ref) {
        produced(ref);
        let bytes = cache.get(ref.storage.base);
        if (!bytes) {
          bytes = zip.read(`${prefix}data/${ref.storage.base}`);
          cache.set(ref.storage.base, bytes);
        }
        return { shape: [...ref.shape], data: stridedToFloat32(bytes, ref, bo === 'big') };
      },
      close() {
        cache.clear();
        zip.close();
      },
    };
  } catch (err) {
    zip.close();
    throw err;
  }
}

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;

function openLegacyPth(path: string, label: string): PthFile {
  // legacy files carry no index: read the whole file (they predate multi-gigabyte checkpoints)
  const bytes = readFileSync(path);
  const globals = torchGlobals();
  // one budget for the file's five pickles
  const budget = new PickleBudget(label, bytes.length);
  let pos = 0;
  const next = (persistentLoad?: (pid: PyValue) => PyValue): PyValue => {
    const r = unpickle(bytes, { globals, label, budget, ...(persistentLoad ? { persistentLoad } : {}) }, pos);
    pos = r.end;
    return r.value;
  };
  if (next() !== LEGACY_MAGIC) throw new WeightsFormatError(`${label}: not a PyTorch checkpoint (a pickle without torch's magic number)`);
  const version = next();
  if (version !== 1001) throw new WeightsFormatError(`${label}: legacy PyTorch format version ${String(version)} is not supported`);
  const sysInfo = next();
  const little = sysInfo instanceof Map ? sysInfo.get('little_endian') !== false : true;
  const roots = new Map<string, { dtype: TorchDtype; numel: number }>();
  const storages = new Map<string, TorchStorage>();
  const persistentLoad = (pid: PyValue): PyValue => {
    // the key names the root storage; a view record picks a stretch of it
    const { dtype, key: root, numel: count, view } = storageRecord(pid, label);
    if (!Number.isSafeInteger(count) || count < 0) throw new WeightsFormatError(`${label}: malformed storage record`);
    roots.set(root, { dtype, numel: Math.max(count, roots.get(root)?.numel ?? 0) });
    if (Array.isArray(view) && typeof view[0] === 'string' && Number.isSafeInteger(view[1]) && Number.isSafeInteger(view[2]) && (view[1] as number) >= 0 && (view[2] as number) >= 0) {
      // an old-style storage view: (view_key, offset, size) into the root storage
      const s = storages.get(view[0]) ?? new TorchStorage(view[0], dtype, view[2], root, view[1]);
      storages.set(view[0], s);
      return s;
    }
    const s = storages.get(root) ?? new TorchStorage(root, dtype, count);
    storages.set(root, s);
    return s;
  };
  const root = next(persistentLoad);
  const keys = next();
  if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string')) throw new WeightsFormatError(`${label}: malformed storage list`);
  const starts = new Map<string, number>();
  for (const key of keys as string[]) {
    const info = roots.get(key);
    if (!info) throw new WeightsFormatError(`${label}: storage ${shown(key)} is listed but never used`);
    const dtype = info.dtype;
    if (pos + 8 > bytes.length) throw new WeightsFormatError(`${label}: the file is truncated (storage ${key} missing)`);
    const n = Number(little ? bytes.readBigInt64LE(pos) : bytes.readBigInt64BE(pos));
    if (!Number.isSafeInteger(n) || n < info.numel) throw new WeightsFormatError(`${label}: corrupt storage header for ${shown(key)}`);
    starts.set(key, pos + 8);
    pos += 8 + n * ITEM_SIZE[dtype];
    if (pos > bytes.length) throw new WeightsFormatError(`${label}: the file is truncated (storage ${shown(key)} ends at byte ${pos}, file has ${bytes.length})`);
  }
  for (const s of storages.values()) {
    if (!starts.has(s.base)) throw new WeightsFormatError(`${label}: the file lacks storage ${shown(s.base)}`);
    // a view must lie inside its root storage
    if (s.start + s.numel > roots.get(s.base)!.numel) throw new WeightsFormatError(`${label}: storage view ${shown(s.key)} reaches past its storage`);
  }
  const produced = outputBound(label, storages.values());
  return {
    root,
    label,
    load: (ref) => {
      produced(ref);
      return {
        shape: [...ref.shape],
        data: stridedToFloat32(bytes.subarray(starts.get(ref.storage.base)! + ref.storage.start * ITEM_SIZE[ref.dtype]), ref, !little),
      };
    },
    close: () => undefined,
  };
}

/**
 * Counts the elements loaded: at most twice what the file's storages hold (plus a little). Each
 * tensor fits its storage (rebuildTensor), but a crafted file can name one storage from thousands
 * of keys; a real state dict loads each stored element about once.
 */
function outputBound(label: string, storages: Iterable<TorchStorage>): (ref: TorchTensorRef) => void {
  let left = 1 << 20;
  for (const s of storages) left += 2 * s.numel;
  return (ref) => {
    left -= numel(ref.shape);
    if (left < 0) throw new UnsafePickleError(`${label}: refused to load: its tensors would hold far more values than its storages (the same data named over and over)`);
  };
}

/** All elements of a storage as float32 (a copy; swaps bytes first when the file is big-endian). */
function storageToFloat32(bytes: Uint8Array, dtype: TorchDtype, count: number, bigEndian: boolean): Float32Array {
  const size = ITEM_SIZE[dtype];
  // a copy into a fresh buffer: typed views need alignment, and Buffer.slice would not copy
  const b = new Uint8Array(bytes.subarray(0, count * size));
  if (bigEndian && size > 1) for (let i = 0; i < b.length; i += size) b.subarray(i, i + size).reverse();
  const buf = b.buffer;
  switch (dtype) {
    case 'float32': return new Float32Array(buf, 0, count);
    case 'float64': return Float32Array.from(new Float64Array(buf, 0, count));
    case 'float16': return halfToFloat32(new Uint16Array(buf, 0, count));
    case 'bfloat16': return bf16ToFloat32(new Uint16Array(buf, 0, count));
    case 'int64': return Float32Array.from(new BigInt64Array(buf, 0, count), (x) => Number(x));
    case 'int32': return Float32Array.from(new Int32Array(buf, 0, count));
    case 'int16': return Float32Array.from(new Int16Array(buf, 0, count));
    case 'int8': return Float32Array.from(new Int8Array(buf, 0, count));
    case 'uint8':
    case 'bool': return Float32Array.from(new Uint8Array(buf, 0, count));
  }
}

function stridedToFloat32(storageBytes: Uint8Array, ref: TorchTensorRef, bigEndian: boolean): Float32Array {
  const n = numel(ref.shape);
  if (n === 0) return new Float32Array(0);
  // decode only the span of the storage this view touches
  let span = 1;
  for (let i = 0; i < ref.shape.length; i++) span += (ref.shape[i]! - 1) * ref.stride[i]!;
  const size = ITEM_SIZE[ref.dtype];
  const src = storageToFloat32(storageBytes.subarray(ref.offset * size), ref.dtype, span, bigEndian);
  let contiguous = true;
  for (let i = ref.shape.length - 1, expect = 1; i >= 0; i--) {
    if (ref.shape[i] !== 1 && ref.stride[i] !== expect) contiguous = false;
    expect *= ref.shape[i]!;
  }
  if (contiguous) return src.length === n ? src : src.slice(0, n);
  const out = new Float32Array(n);
  const nd = ref.shape.length;
  const idx = new Array<number>(nd).fill(0);
  let srcPos = 0;
  for (let o = 0; o < n; o++) {
    out[o] = src[srcPos]!;
    // advance the multi-index (last dimension fastest), keeping the source position in step
    for (let d = nd - 1; d >= 0; d--) {
      idx[d]!++;
      srcPos += ref.stride[d]!;
      if (idx[d]! < ref.shape[d]!) break;
      srcPos -= ref.stride[d]! * ref.shape[d]!;
      idx[d] = 0;
    }
  }
  return out;
}

/**
 * Every dict of tensors in the checkpoint, by its path ('' for the root, 'teacher', 'student',
 * 'model', 'state_dict', ...). Only tensor-valued entries are kept; other values are skipped.
 */
export function findStateDicts(root: PyValue, maxDepth = 3): Map<string, Map<string, TorchTensorRef>> {
  const out = new Map<string, Map<string, TorchTensorRef>>();
  // a dict named twice (memo) is walked once: sharing must not multiply the walk
  const seen = new Set<Map<PyKey, PyValue>>();
  const visit = (v: PyValue, path: string, depth: number) => {
    if (!(v instanceof Map) || depth > maxDepth || seen.has(v)) return;
    seen.add(v);
    const tensors = new Map<string, TorchTensorRef>();
    for (const [k, x] of v) {
      if (typeof k !== 'string') continue;
      if (x instanceof TorchTensorRef) tensors.set(k, x);
      else visit(x as PyValue, path ? `${path}.${k}` : k, depth + 1);
    }
    if (tensors.size > 0) out.set(path, tensors);
  };
  visit(root, '', 0);
  return out;
}

/** Convenience: every tensor of a checkpoint, keyed "<dict path>.<name>" (tests, tools). */
export function readPthTensors(path: string): TensorMap {
  const f = openPth(path);
  try {
    const out: TensorMap = new Map();
    for (const [where, dict] of findStateDicts(f.root)) for (const [k, ref] of dict) out.set(where ? `${where}.${k}` : k, f.load(ref));
    return out;
  } finally {
    f.close();
  }
}
