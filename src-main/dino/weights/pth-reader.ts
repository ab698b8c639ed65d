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
import { PyObject, UnsafePickleError, unpickle, type PyGlobal, type PyKey, type PyValue } from './pickle';
import { PickleBudget } from './pickle-budget';
import { WeightsFormatError, bf16ToFloat32, halfToFloat32, numel, shown, type HostTensor, type TensorMap } from './tensor-map';

export type TorchDtype = 'float32' | 'float64' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

const ITEM_SIZE: Record<TorchDtype, number> = {
  float32: 4, float64: 8, float16: 2, bfloat16: 2, int64: 8, int32: 4, int16: 2, int8: 1, uint8: 1, bool: 1,
};

/** torch.<X>Storage names as pickled by torch.save, and the element type each stands for. */
const STORAGE_TYPES: Record<string, TorchDtype> = {
  FloatStorage: 'float32', DoubleStorage: 'float64', HalfStorage: 'float16', BFloat16Storage: 'bfloat16',
  LongStorage: 'int64', IntStorage: 'int32', ShortStorage: 'int16', CharStorage: 'int8', ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

export class TorchStorage {
  constructor(
    readonly key: string,
    readonly dtype: TorchDtype,
    readonly numel: number,
    /** where the bytes live: the storage record holding them, and the first element (legacy views) */
    readonly base = key,
    readonly start = 0,
  ) {}
}

/** A tensor as the pickle describes it: a strided view into a storage. */
export class TorchTensorRef {
  constructor(
    readonly storage: TorchStorage,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
  get dtype(): TorchDtype {
    return this.storage.dtype;
  }
}

/**
 * The largest data.pkl read: a ViT-B full checkpoint's is tens of kilobytes; a pickle that claims
 * more than this is not a state dict.
 */
export const MAX_PICKLE_BYTES = 32 << 20;

function global(qualname: string, call: (args: PyValue[], work: PickleBudget) => PyValue): PyGlobal {
  return { qualname, call };
}

function ints(v: PyValue, what: string, work: PickleBudget): number[] {
  if (!Array.isArray(v)) throw new WeightsFormatError(`${work.label}: malformed tensor record: ${what} is not a tuple of ints`);
  work.spend(v.length);
  if (!v.every((x) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0)) throw new WeightsFormatError(`${work.label}: malformed tensor record: ${what} is not a tuple of non-negative ints`);
  return v as number[];
}

function rebuildTensor(args: PyValue[], work: PickleBudget): TorchTensorRef {
  const [storage, offset, size, stride] = args;
  if (!(storage instanceof TorchStorage) || typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) throw new WeightsFormatError(`${work.label}: malformed tensor record in the pickle`);
  const shape = ints(size ?? null, 'size', work);
  const strides = ints(stride ?? null, 'stride', work);
  if (shape.length !== strides.length) throw new WeightsFormatError(`${work.label}: malformed tensor record: size and stride differ in length`);
  let last = offset;
  for (let i = 0; i < shape.length; i++) if (shape[i]! > 0) last += (shape[i]! - 1) * strides[i]!;
  const n = numel(shape);
  if (n > 0 && last >= storage.numel) throw new WeightsFormatError(`${work.label}: tensor of shape [${shape}] reaches past its storage (${storage.numel} elements)`);
  // a zero stride repeats elements: a one-element storage could stand for a tensor of any size.
  // No parameter is saved that way, so a view may not hold more elements than its storage.
  if (n > storage.numel) throw new UnsafePickleError(`${work.label}: refused to load: a tensor of shape [${shape}] would repeat the ${storage.numel} elements of its storage`);
  return new TorchTensorRef(storage, offset, shape, strides);
}

/**
 * The allow-list: every Python global a state dict or a DINO training checkpoint legitimately
 * references, each implemented here as plain data construction.
 */
function torchGlobals(): Map<string, PyGlobal> {
  const g = new Map<string, PyGlobal>();
  const add = (names: string[], call: (args: PyValue[], work: PickleBudget) => PyValue) => {
    for (const n of names) g.set(n, global(n, call));
  };
  for (const [name, dtype] of Object.entries(STORAGE_TYPES)) {
    // storage types only ever appear inside persistent ids; calling one is not something torch.save writes
    add([`torch.${name}`], () => {
      throw new WeightsFormatError(`unexpected call of torch.${name} in the pickle`);
    });
    (g.get(`torch.${name}`) as PyGlobal & { storageDtype?: TorchDtype }).storageDtype = dtype;
  }
  add(['torch._utils._rebuild_tensor_v2', 'torch._utils._rebuild_tensor'], rebuildTensor);
  // nn.Parameter: (data, requires_grad, backward_hooks[, state]) -> the tensor itself
  add(['torch._utils._rebuild_parameter', 'torch._utils._rebuild_parameter_with_state'], (a) => a[0] ?? null);
  add(['torch._tensor._rebuild_from_type_v2'], (a, work) => {
    const [fn, , args] = a;
    if (!fn || typeof fn !== 'object' || !('call' in fn) || !Array.isArray(args)) throw new WeightsFormatError('malformed tensor subclass record');
    return (fn as PyGlobal).call(args as PyValue[], work);
  });
  add(['torch.Tensor', 'torch.nn.parameter.Parameter'], () => {
    throw new WeightsFormatError('unexpected construction of a tensor type in the pickle');
  });
  add(['torch.Size'], (a) => (Array.isArray(a[0]) ? a[0] : []));
  // each call below copies its argument: charged by length, or one list named a million times would
  // cost a million copies for a few bytes each
  add(['collections.OrderedDict', 'builtins.dict', '__builtin__.dict'], (a, work) => {
    const m = new Map<PyKey, PyValue>();
    const items = a[0];
    if (Array.isArray(items)) {
      work.spend(items.length);
      for (const kv of items) if (Array.isArray(kv)) m.set(work.key(kv[0] ?? null), kv[1] ?? null);
    }
    return m;
  });
  add(['builtins.set', '__builtin__.set', 'builtins.frozenset', '__builtin__.frozenset'], (a, work) => {
    const items = Array.isArray(a[0]) ? (a[0] as PyValue[]) : [];
    work.spend(items.length);
    return new Set(items.map((x) => work.key(x)));
  });
  add(['builtins.list', '__builtin__.list', 'builtins.tuple', '__builtin__.tuple'], (a, work) => {
    const items = Array.isArray(a[0]) ? (a[0] as PyValue[]) : [];
    work.spend(items.length);
    return [...items];
  });
  // protocol 2 has no bytes opcode: Python 3 pickles bytes as _codecs.encode(text, 'latin1')
  add(['_codecs.encode'], (a, work) => {
    const [s, enc] = a;
    if (typeof s !== 'string' || (enc !== 'latin1' && enc !== 'latin-1')) throw new WeightsFormatError("only _codecs.encode(text, 'latin1') is allowed");
    work.spend(s.length);
    return new Uint8Array(Buffer.from(s, 'latin1'));
  });
  // the full checkpoint's training arguments: kept as a plain object, never a live class
  add(['argparse.Namespace'], (a) => new PyObject('argparse.Namespace', a, new Map()));
  add(['pathlib.PosixPath', 'pathlib.WindowsPath', 'pathlib.Path'], (a, work) => {
    work.spend(a.reduce<number>((n, x) => n + (typeof x === 'string' ? x.length : 1), 0));
    return a.filter((x) => typeof x === 'string').join('/');
  });
  add(['copyreg._reconstructor', 'copy_reg._reconstructor'], (a, work) => {
    const cls = a[0];
    if (!cls || typeof cls !== 'object' || !('call' in cls)) throw new WeightsFormatError('malformed object record');
    return (cls as PyGlobal).call([], work);
  });
  // numpy scalars (e.g. a float64 in args): scalar(dtype, raw bytes)
  add(['numpy.dtype'], (a) => new PyObject('numpy.dtype', a));
  add(['numpy.core.multiarray.scalar', 'numpy._core.multiarray.scalar'], (a) => numpyScalar(a));
  return g;
}

function numpyScalar(a: PyValue[]): PyValue {
  const [dtype, raw] = a;
  if (!(dtype instanceof PyObject) || typeof dtype.args[0] !== 'string' || !(raw instanceof Uint8Array)) throw new WeightsFormatError('malformed numpy scalar');
  const code = dtype.args[0];
  // BUILD state of a dtype: (version, byteorder, ...); '>' is big-endian
  const big = Array.isArray(dtype.state) && dtype.state[1] === '>';
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  switch (code) {
    case 'f8': return v.getFloat64(0, !big);
    case 'f4': return v.getFloat32(0, !big);
    case 'i8': return Number(v.getBigInt64(0, !big));
    case 'i4': return v.getInt32(0, !big);
    case 'u8': return Number(v.getBigUint64(0, !big));
    case 'u4': return v.getUint32(0, !big);
    case 'b1': return raw[0] !== 0;
    default: throw new WeightsFormatError(`unsupported numpy scalar type ${code}`);
  }
}

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
      // ('storage', storage_type, key, location, numel)
      if (!Array.isArray(pid) || pid[0] !== 'storage' || typeof pid[2] !== 'string' || typeof pid[4] !== 'number') {
        throw new WeightsFormatError(`${label}: unknown persistent record in the pickle`);
      }
      const type = pid[1] as (PyGlobal & { storageDtype?: TorchDtype }) | null;
      const dtype = type?.storageDtype;
      if (!dtype) throw new WeightsFormatError(`${label}: storage of unknown type ${type?.qualname ? shown(type.qualname) : '(not a storage type)'}`);
      const key = pid[2];
      let s = storages.get(key);
      if (!s) {
        const entry = zip.entries.get(`${prefix}data/${key}`);
        if (!entry) throw new WeightsFormatError(`${label}: the archive lacks storage ${shown(key)} (truncated or corrupt file)`);
        if (!Number.isSafeInteger(pid[4]) || pid[4] < 0 || entry.size < pid[4] * ITEM_SIZE[dtype]) throw new WeightsFormatError(`${label}: storage ${shown(key)} is shorter than its ${pid[4]} elements`);
        s = new TorchStorage(key, dtype, pid[4]);
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
    // ('storage', storage_type, root_key, location, numel, view_metadata)
    if (!Array.isArray(pid) || pid[0] !== 'storage' || typeof pid[2] !== 'string' || typeof pid[4] !== 'number') {
      throw new WeightsFormatError(`${label}: unknown persistent record in the pickle`);
    }
    const type = pid[1] as (PyGlobal & { storageDtype?: TorchDtype }) | null;
    const dtype = type?.storageDtype;
    if (!dtype) throw new WeightsFormatError(`${label}: storage of unknown type ${type?.qualname ? shown(type.qualname) : '(not a storage type)'}`);
    if (!Number.isSafeInteger(pid[4]) || pid[4] < 0) throw new WeightsFormatError(`${label}: malformed storage record`);
    const root = pid[2];
    roots.set(root, { dtype, numel: Math.max(pid[4], roots.get(root)?.numel ?? 0) });
    const view = pid[5];
    if (Array.isArray(view) && typeof view[0] === 'string' && Number.isSafeInteger(view[1]) && Number.isSafeInteger(view[2]) && (view[1] as number) >= 0 && (view[2] as number) >= 0) {
      // an old-style storage view: (view_key, offset, size) into the root storage
      const s = storages.get(view[0]) ?? new TorchStorage(view[0], dtype, view[2], root, view[1]);
      storages.set(view[0], s);
      return s;
    }
    const s = storages.get(root) ?? new TorchStorage(root, dtype, pid[4]);
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
